"""run_checks / check_results: extension point, statuses, failing checks fail closed."""

from __future__ import annotations

from apprentice.guard import Deployment, Problem, check_results, run_checks


def wildcard_policy(deployment: Deployment) -> list[Problem]:
    """authorisation policy has no wildcard grant"""
    return [Problem("wildcard_policy", "refuse", "policy.cedar permits every principal", "narrow it")]


def test_extra_checks_run_after_the_built_in_ones() -> None:
    problems = run_checks(Deployment(debug=True), extra_checks=(wildcard_policy,))
    assert [p.check for p in problems] == ["debug", "wildcard_policy"]
    result = check_results(Deployment(), (wildcard_policy,))[-1]
    assert (result.name, result.title, result.status) == (
        "wildcard_policy", "authorisation policy has no wildcard grant", "refuse")


def test_a_check_that_raises_is_a_refusal_without_the_exception_text() -> None:
    def check_broken(deployment: Deployment) -> list[Problem]:
        raise RuntimeError("secret-detail")

    (problem,) = run_checks(Deployment(), extra_checks=(check_broken,))
    assert problem.severity == "refuse" and problem.check == "broken"
    assert "RuntimeError" in problem.reason and "secret-detail" not in problem.reason


def test_statuses_pass_skip_warn_refuse() -> None:
    statuses = {r.name: r.status for r in check_results(Deployment(bind_host="127.0.0.1", debug=False))}
    assert statuses["bind_tls"] == "pass" and statuses["debug"] == "pass"
    assert statuses["bucket_policy"] == "skip" and statuses["data_permissions"] == "skip"


def test_problem_line_is_one_line_with_reason_and_fix() -> None:
    problem = Problem("debug", "refuse", "collector has debug mode on (debug = true)", "remove it")
    assert problem.line() == "refusing to start: collector has debug mode on (debug = true) — fix: remove it"
    assert "\n" not in problem.line()
