"""Drives CrunchDAO's own client (model-runner-client) against our orchestrator, for the compatibility test.

Usage: reference_client.py HOST PORT CRUNCH_ID EXPECTED_MODELS
Connects with DynamicSubclassModelConcurrentRunner, waits until EXPECTED_MODELS models are set up, calls
predict("BTC", 3600, 300) on all of them and prints one JSON line: {model_id: {status, densities, deployment_id}}.
"""

import asyncio
import json
import os
import sys

from model_runner_client.grpc.generated.commons_pb2 import Argument, Variant, VariantType
from model_runner_client.model_concurrent_runners import DynamicSubclassModelConcurrentRunner
from model_runner_client.utils.datatype_transformer import encode_data


def argument(position, variant_type, value):
    return Argument(position=position, data=Variant(type=variant_type, value=encode_data(variant_type, value)))


async def main(host, port, crunch_id, expected):
    runner = DynamicSubclassModelConcurrentRunner(
        timeout=30,
        crunch_id=crunch_id,
        host=host,
        port=port,
        base_classname="condorgame.tracker.TrackerBase",
    )
    await runner.init()
    sync = asyncio.create_task(runner.sync())
    for _ in range(600):
        if len(runner.model_cluster.models_run) >= expected:
            break
        await asyncio.sleep(0.1)
    else:
        raise SystemExit(f"only {len(runner.model_cluster.models_run)} of {expected} models were set up")
    args = [
        argument(1, VariantType.STRING, "BTC"),
        argument(2, VariantType.INT, 3600),
        argument(3, VariantType.INT, 300),
    ]
    results = await runner.call("predict", (args, []))
    report = {
        model.model_id: {
            "status": result.status.value,
            "densities": len(result.result) if isinstance(result.result, list) else None,
            "deployment_id": model.deployment_id,
        }
        for model, result in results.items()
    }
    print(json.dumps(report), flush=True)
    sync.cancel()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])))
    # The client registers an atexit hook that needs a live event loop; skip it.
    os._exit(0)
