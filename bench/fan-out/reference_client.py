"""The reference Python client (model-runner-client 0.14.0) on the fan-out benchmark's endpoints.

Connects through the benchmark's discovery WebSocket exactly as a Python coordinator does
(DynamicSubclassModelConcurrentRunner), then times warm rounds of `predict` to every model.
Prints one JSON line: {"models": N, "rounds_ms": [...], "success": [...]}; progress goes to stderr.
"""

import argparse
import asyncio
import json
import logging
import sys
import time

from model_runner_client.grpc.generated.commons_pb2 import Argument, Variant, VariantType
from model_runner_client.model_concurrent_runners.dynamic_subclass_model_concurrent_runner import (
    DynamicSubclassModelConcurrentRunner,
)
from model_runner_client.model_concurrent_runners.model_concurrent_runner import ModelPredictResult
from model_runner_client.utils.datatype_transformer import encode_data


def argument(position, value):
    kind = VariantType.STRING if isinstance(value, str) else VariantType.INT
    return Argument(position=position, data=Variant(type=kind, value=encode_data(kind, value)))


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--ws-port", type=int, required=True)
    parser.add_argument("--crunch-id", default="condorgame")
    parser.add_argument("--models", type=int, required=True)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--timeout", type=float, default=60)
    options = parser.parse_args()
    logging.basicConfig(level=logging.ERROR, stream=sys.stderr)

    runner = DynamicSubclassModelConcurrentRunner(
        timeout=options.timeout,
        crunch_id=options.crunch_id,
        host="127.0.0.1",
        port=options.ws_port,
        base_classname="condorgame.tracker.TrackerBase",
        report_failure=False,
    )
    await runner.init()  # connects discovery; the init event connects and sets up every model
    connected = len(runner.model_cluster.models_run)
    print(f"reference client: {connected} models connected", file=sys.stderr)

    arguments = ([argument(0, "BTC"), argument(1, 86400), argument(2, 300)], [])
    await runner.call("predict", arguments)  # warm-up round
    rounds_ms, success = [], []
    for _ in range(options.rounds):
        started = time.perf_counter()
        results = await runner.call("predict", arguments)
        rounds_ms.append((time.perf_counter() - started) * 1000)
        ok = [r for r in results.values() if r.status == ModelPredictResult.Status.SUCCESS and len(r.result) == 288]
        success.append(len(ok))
    print(json.dumps({"models": connected, "rounds_ms": rounds_ms, "success": success}))
    sys.stdout.flush()
    # Skip the client's slow, noisy teardown: the benchmark kills the process group anyway.
    import os

    os._exit(0)


asyncio.run(main())
