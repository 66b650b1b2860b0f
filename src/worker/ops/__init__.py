"""Operator tooling behind ``worker dlq`` and ``worker docs``: library code, no rich.

* :mod:`worker.ops.deadletters`: what a dead letter says (error attributes, the original
  message, what it was about, where it came from);
* :mod:`worker.ops.dlq`: list dead letters without consuming them, replay them to their
  source topic (Google's clients and error translation in :mod:`worker.ops.pubsub_clients`);
* :mod:`worker.ops.asyncapi`, :mod:`worker.ops.asyncapi_html`, :mod:`worker.ops.yaml_text`:
  the AsyncAPI document of the service, its self-contained HTML page, its YAML text;
  :mod:`worker.ops.docs_server` serves them.
"""
