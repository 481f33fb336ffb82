"""CrunchDAO's Python client (model-runner-client 0.14.0) connecting to one model node, in secure or
gateway mode, with its own credentials classes: the witness that the test nodes behave like
production ones. Prints one JSON line: {"ok": bool, "error": str | null}.
"""

import argparse
import asyncio
import json
import logging

from model_runner_client.model_runners.dynamic_subclass_model_runner import DynamicSubclassModelRunner
from model_runner_client.security.credentials import SecureCredentials
from model_runner_client.security.gateway_credentials import GatewayCredentials


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--mode", choices=["secure", "gateway"], required=True)
    parser.add_argument("--cert-dir", required=True)
    parser.add_argument("--ip", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--model-id", required=True)
    parser.add_argument("--wallet")
    parser.add_argument("--hotkey")
    parser.add_argument("--class-name", default="condorgame.tracker.TrackerBase")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    credentials = {}
    if args.mode == "secure":
        credentials["secure_credentials"] = SecureCredentials.from_directory(args.cert_dir)
    else:
        with open(f"{args.cert_dir}/tls.key", "rb") as key:
            credentials["gateway_credentials"] = GatewayCredentials.from_pem(key.read())
    runner = DynamicSubclassModelRunner(
        base_classname=args.class_name,
        deployment_id=f"{args.model_id}_test",
        model_id=args.model_id,
        model_name=args.model_id,
        ip=args.ip,
        port=args.port,
        infos={"cruncher_wallet_pubkey": args.wallet, "cruncher_hotkey": args.hotkey},
        retry_backoff_factor=0.1,
        **credentials,
    )
    try:
        ok, error = await runner.init()
        result = {"ok": bool(ok), "error": None if ok else str(error)}
    except Exception as error:  # InvalidCoordinatorUsageError and the like: refused too
        result = {"ok": False, "error": f"{type(error).__name__}: {error}"}
    finally:
        await runner.close()
    print(json.dumps(result), flush=True)


asyncio.run(main())
