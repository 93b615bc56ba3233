// Progressive enhancement only: every page works without this file.
// 1. Build progress: poll the job's progress URL and update the page in place.
// 2. Episode viewer: the left and right arrow keys step through the episode.
(function () {
  "use strict";
  function pollJob(box) {
    var url = box.getAttribute("data-progress-url");
    function update() {
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (job) {
          if (!job) { return; }
          document.getElementById("job-state").textContent = job.state;
          document.getElementById("job-stage").textContent = job.stage;
          var bar = document.getElementById("job-progress");
          bar.max = job.total || 1; bar.value = job.done;
          document.getElementById("job-count").textContent = job.done + " / " + job.total;
          if (job.result) {
            var link = document.getElementById("job-link");
            link.href = "/datasets/" + job.result; link.textContent = job.result;
            document.getElementById("job-result").hidden = false;
          }
          if (job.error) {
            var err = document.getElementById("job-error");
            err.textContent = job.error; err.hidden = false;
          }
          if (job.state === "queued" || job.state === "running") { setTimeout(update, 500); }
        });
    }
    update();
  }
  function stepKeys(nav) {
    document.addEventListener("keydown", function (event) {
      var tag = (event.target && event.target.tagName) || "";
      if (tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || event.altKey || event.ctrlKey || event.metaKey) { return; }
      var target = event.key === "ArrowLeft" ? nav.getAttribute("data-prev") : event.key === "ArrowRight" ? nav.getAttribute("data-next") : "";
      if (target) { window.location.search = target.slice(1); }
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    var job = document.getElementById("job");
    if (job) { pollJob(job); }
    var nav = document.querySelector(".stepper");
    if (nav) { stepKeys(nav); }
  });
})();
