"""Where the collector keeps what it receives: metadata in SQL, sealed chunks as blobs."""
