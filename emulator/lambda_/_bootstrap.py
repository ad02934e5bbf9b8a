"""The worker process of the local Lambda: runs one Python handler, one invocation at a time.

Started as ``python -I -S -u _bootstrap.py CODE_DIR`` by emulator/lambda_/runtime.py, so ``sys.path`` is the
unpacked zip plus the standard library and nothing else: a zip that lacks a dependency fails to import here
as it would on AWS. Only the standard library may be imported by this file.

Wire: ``{"ready": bool}`` on the protocol fd (the original stdout) once the handler's module is imported,
then one JSON request per line on stdin and one JSON answer per line on the protocol fd. The handler's
stdout and stderr both go to the stderr pipe (the function's log); after each invocation a marker line
``\\x1eDONE <request id>`` tells the emulator that the log of that invocation is complete.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import sys
import time
import traceback
from typing import Any

MARKER = "\x1eDONE "


class LambdaContext:
    """The attributes and method AWS's Python runtime gives the handler's ``context``."""

    def __init__(self, req: dict[str, Any]) -> None:
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        self.invoked_function_arn = str(req.get("invoked_function_arn", ""))
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        self.aws_request_id = str(req["request_id"])
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME", "")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME", "")
        self.identity = None
        self.client_context = None
        self._deadline_ms = float(req["deadline_ms"])

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int(self._deadline_ms - time.time() * 1000))


class _RequestIdFilter(logging.Filter):
    request_id = ""

    def filter(self, record: logging.LogRecord) -> bool:
        record.aws_request_id = self.request_id
        return True


def _error(exc: BaseException, error_type: str | None = None, message: str | None = None) -> dict[str, Any]:
    return {
        "errorMessage": message if message is not None else str(exc),
        "errorType": error_type or type(exc).__name__,
        "requestId": "",
        "stackTrace": traceback.format_list(traceback.extract_tb(exc.__traceback__)),
    }


def _log_error(err: dict[str, Any]) -> None:
    sys.stderr.write(f"[ERROR] {err['errorType']}: {err['errorMessage']}\n")
    if err["stackTrace"]:
        sys.stderr.write("Traceback (most recent call last):\n" + "".join(err["stackTrace"]))


def _load(handler: str) -> tuple[Any, dict[str, Any] | None]:
    """The handler function, or the init error AWS's runtime reports for it."""
    module_name, _, func_name = handler.rpartition(".")
    if not module_name:
        return None, {
            "errorMessage": f"Bad handler '{handler}': not enough values to unpack (expected 2, got 1)",
            "errorType": "Runtime.MalformedHandlerName",
            "requestId": "",
            "stackTrace": [],
        }
    module_name = module_name.replace("/", ".")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        return None, _error(
            exc, "Runtime.ImportModuleError", f"Unable to import module '{module_name}': {exc}"
        )
    except SyntaxError as exc:
        return None, _error(
            exc, "Runtime.UserCodeSyntaxError", f"Syntax error in module '{module_name}': {exc}"
        )
    except Exception as exc:
        return None, _error(exc)
    func = getattr(module, func_name, None)
    if func is None:
        return None, {
            "errorMessage": f"Handler '{func_name}' missing on module '{module_name}'",
            "errorType": "Runtime.HandlerNotFound",
            "requestId": "",
            "stackTrace": [],
        }
    return func, None


def main() -> None:
    proto = os.fdopen(os.dup(1), "w", buffering=1, encoding="utf-8")
    os.dup2(2, 1)
    sys.stdout = os.fdopen(1, "w", buffering=1, encoding="utf-8")
    code_dir = sys.argv[1]
    sys.path.insert(0, code_dir)
    os.chdir(code_dir)
    request_filter = _RequestIdFilter()
    log_handler = logging.StreamHandler(sys.stderr)
    log_handler.setFormatter(
        logging.Formatter("[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s\n")
    )
    log_handler.formatter.converter = time.gmtime  # type: ignore[union-attr]
    log_handler.formatter.default_time_format = "%Y-%m-%dT%H:%M:%S"  # type: ignore[union-attr]
    log_handler.formatter.default_msec_format = ""  # type: ignore[union-attr]
    log_handler.addFilter(request_filter)
    logging.getLogger().addHandler(log_handler)
    logging.getLogger().setLevel(os.environ.get("AWS_LAMBDA_LOG_LEVEL", "WARNING"))

    func, init_error = _load(os.environ.get("_HANDLER", ""))
    if init_error is not None:
        _log_error(init_error)
    proto.write(json.dumps({"ready": init_error is None}) + "\n")  # the init phase is over
    proto.flush()
    for line in sys.stdin:
        req = json.loads(line)
        request_id = str(req["request_id"])
        request_filter.request_id = request_id
        answer: dict[str, Any]
        if init_error is not None:
            answer = {"error": init_error, "init_error": True}
        else:
            try:
                result = func(json.loads(req["event"]), LambdaContext(req))
                try:
                    answer = {"payload": json.dumps(result)}
                except (TypeError, ValueError) as exc:
                    err = {
                        "errorMessage": f"Unable to marshal response: {exc}",
                        "errorType": "Runtime.MarshalError",
                        "requestId": request_id,
                        "stackTrace": [],
                    }
                    _log_error(err)
                    answer = {"error": err}
            except Exception as exc:
                err = _error(exc)
                err["requestId"] = request_id
                _log_error(err)
                answer = {"error": err}
        sys.stdout.flush()
        sys.stderr.write(f"{MARKER}{request_id}\n")
        sys.stderr.flush()
        proto.write(json.dumps(answer) + "\n")
        proto.flush()
        if init_error is not None:
            return


if __name__ == "__main__":
    main()
