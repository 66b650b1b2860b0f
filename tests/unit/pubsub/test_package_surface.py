"""The broker distribution's import surface, checked in fresh interpreters.

FastStream finds a broker's test client through the registry its ``TestBroker``
subclasses join when they are defined (``faststream._internal.testing.broker``); the
AsyncAPI "try it out" page and ``faststream docs`` rely on it, and first-party brokers
(``import faststream.redis``) load their test client with the package.
"""

from __future__ import annotations

import subprocess
import sys


def _run(code: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    return done.stdout.strip()


def test_the_error_tree_imports_without_faststream_or_grpc() -> None:
    code = (
        "import sys, faststream_gcp_pubsub.errors as e; "
        "print(e.BrokerError.__name__, 'faststream' in sys.modules, "
        "'google.cloud.pubsub_v1' in sys.modules)"
    )
    assert _run(code) == "BrokerError False False"


def test_using_the_broker_registers_its_test_client_with_faststream() -> None:
    code = (
        "from faststream_gcp_pubsub import PubSubBroker; "
        "from faststream._internal.testing.broker import find_test_broker; "
        "print(find_test_broker(PubSubBroker(project='p', in_memory=True)).__name__)"
    )
    assert _run(code) == "TestPubSubBroker"


def test_an_unknown_name_is_an_attribute_error() -> None:
    code = (
        "import faststream_gcp_pubsub as p\n"
        "try:\n    p.NoSuchThing\nexcept AttributeError as e:\n    print(e)"
    )
    assert "has no attribute 'NoSuchThing'" in _run(code)
