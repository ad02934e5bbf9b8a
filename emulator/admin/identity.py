"""Who the caller is: STS GetCallerIdentity, the IAM entity behind it, and Lake Formation principal checks.

AWS answers GetCallerIdentity of an IAM user with ``arn:aws:iam::ACCOUNT:user/NAME`` and of an assumed
role with ``arn:aws:sts::ACCOUNT:assumed-role/ROLE_NAME/SESSION``, without the role's IAM path (aws-facts.md).
moto answers unknown credentials with ``arn:aws:sts::ACCOUNT:user/moto``, which names nothing in IAM. Here the
default caller is the IAM user ``moto``, which exists in IAM after every reset, and the admin API
(``POST /_emulator/identity``) makes the caller an assumed role at any path, for example an IAM Identity
Center (SSO) role under ``/aws-reserved/sso.amazonaws.com/REGION/``; the role then exists in IAM at that
path. ``denied`` lists actions the caller's policies do not allow: ``iam:GetRole`` (every request), or
``iam:GetRole/NAME`` (requests naming NAME, e.g. the caller's own role); they answer ``AccessDenied``, as AWS
does for a caller without the permission. Only calls signed with credentials moto did
not issue are "the caller"; moto's own AssumeRole credentials keep moto's answers.

``check_principal`` is Lake Formation's rule: an IAM principal ARN must name an existing IAM user or role,
path included, else ``InvalidInputException`` "Invalid path for user, arn: ..." (dataall issue 376).
IAM state is one per account and partition, whatever region a request names (moto keys IAM by partition).
The caller's user and role live in the ``aws`` partition's IAM (``IAM_PARTITION``); the ARNs an answer to a
request names follow the partition of the request's region (moto's ``get_partition``), as AWS's do.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field
from typing import Any

from moto.utilities.utils import get_partition

from emulator.core import state
from emulator.core.exceptions import AwsError
from emulator.core.registry import OverrideRequest, OverrideResponse, register, register_reset

DEFAULT_USER = "moto"
IAM_PARTITION = "aws"
_PATH_RE = re.compile(r"^/([\x21-\x7e]+/)?$")
_NAME_RE = re.compile(r"^[\w+=,.@-]{1,64}$")
_SESSION_RE = re.compile(r"^[\w+=,.@-]{2,64}$")
_ACTION_RE = re.compile(r"^[a-z0-9-]+:[A-Za-z0-9]+(/[\w+=,.@-]+)?$")
_IAM_ARN_RE = re.compile(r"^arn:(aws[a-z-]*):iam::(\d{12}):(user|role)(/.*)$")
_TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {
                    "Federated": f"arn:{IAM_PARTITION}:iam::{state.ACCOUNT_ID}:saml-provider/AWSSSO"
                },
                "Action": ["sts:AssumeRoleWithSAML", "sts:TagSession"],
            }
        ],
    }
)


@dataclass
class _Identity:
    role_path: str
    role_name: str
    session: str
    denied: frozenset[str] = field(default_factory=frozenset)


_lock = threading.Lock()
_current: _Identity | None = None
_hooked: set[str] = set()


class IdentityError(ValueError):
    """A bad admin request (HTTP 400)."""


def _iam(account_id: str, partition: str = IAM_PARTITION) -> Any:
    from moto.iam.models import iam_backends

    return iam_backends[account_id][partition]


def _ensure_default_user() -> None:
    iam = _iam(state.ACCOUNT_ID)
    if DEFAULT_USER not in iam.users:
        iam.create_user("us-east-1", DEFAULT_USER, "/")


@register_reset
def _reset() -> None:
    global _current
    with _lock:
        _current = None
    _ensure_default_user()


def set_identity(spec: Any) -> dict[str, Any]:
    """``{"role_path", "role_name", "session", "denied"?}``: the caller becomes that assumed role."""
    global _current
    if not isinstance(spec, dict):
        raise IdentityError("identity must be a JSON object")
    unknown = set(spec) - {"role_path", "role_name", "session", "denied"}
    if unknown:
        raise IdentityError(f"unknown identity keys: {sorted(unknown)}")
    path = spec.get("role_path", "/")
    name = spec.get("role_name")
    session = spec.get("session", "session")
    denied = spec.get("denied", [])
    if not isinstance(path, str) or not _PATH_RE.match(path) or len(path) > 512:
        raise IdentityError(f"role_path {path!r} must start and end with / (IAM path rules)")
    if not isinstance(name, str) or not _NAME_RE.match(name):
        raise IdentityError(f"role_name {name!r} must be 1-64 of letters, digits and +=,.@_-")
    if not isinstance(session, str) or not _SESSION_RE.match(session):
        raise IdentityError(f"session {session!r} must be 2-64 of letters, digits and +=,.@_-")
    if not isinstance(denied, list) or not all(isinstance(a, str) and _ACTION_RE.match(a) for a in denied):
        raise IdentityError("denied must be a list of actions such as iam:GetRole or iam:GetRole/NAME")
    iam = _iam(state.ACCOUNT_ID)
    try:
        role = iam.get_role(name)
    except Exception:
        role = None
    if role is not None and role.path != path:
        iam.delete_role(name)
        role = None
    if role is None:
        iam.create_role(name, _TRUST, path, None, "caller role (emulator identity)", [], None)
    for action in denied:
        _hook(action.partition("/")[0])
    with _lock:
        _current = _Identity(path, name, session, frozenset(denied))
    return snapshot()


def clear_identity() -> dict[str, Any]:
    global _current
    with _lock:
        _current = None
    _ensure_default_user()
    return snapshot()


def _user_arn(partition: str, account: str) -> str:
    return f"arn:{partition}:iam::{account}:user/{DEFAULT_USER}"


def _session_arn(partition: str, account: str, cur: _Identity) -> str:
    return f"arn:{partition}:sts::{account}:assumed-role/{cur.role_name}/{cur.session}"


def snapshot() -> dict[str, Any]:
    """The caller as the admin API shows it: ARNs in the partition its IAM entities live in."""
    with _lock:
        cur = _current
    account = state.ACCOUNT_ID
    if cur is None:
        return {"Arn": _user_arn(IAM_PARTITION, account), "default": True}
    return {
        "Arn": _session_arn(IAM_PARTITION, account, cur),
        "RoleArn": f"arn:{IAM_PARTITION}:iam::{account}:role{cur.role_path}{cur.role_name}",
        "denied": sorted(cur.denied),
        "default": False,
    }


def _access_key(req: OverrideRequest) -> str:
    m = re.search(r"Credential=([^/,\s]+)/", req.headers.get("authorization", ""))
    return m.group(1) if m else ""


def _is_caller(req: OverrideRequest) -> bool:
    """True unless the request is signed with credentials moto issued (AssumeRole, CreateAccessKey)."""
    key = _access_key(req)
    if not key:
        return True
    from moto.sts.models import sts_backends

    if sts_backends[req.account_id]["global"].get_assumed_role_from_access_key(key) is not None:
        return False
    return _iam(req.account_id).get_user_from_access_key_id(key) is None


@register("sts", "GetCallerIdentity")
def get_caller_identity(req: OverrideRequest) -> OverrideResponse | None:
    if not _is_caller(req):
        return None
    from emulator.core.query import xml_response

    with _lock:
        cur = _current
    account, partition = req.account_id, str(get_partition(req.region))
    if cur is None:
        _ensure_default_user()
        user = _iam(account).users.get(DEFAULT_USER)
        result = {"UserId": user.id if user else "AIDAEMULATORDEFAULT", "Account": account}
        result["Arn"] = _user_arn(partition, account)
    else:
        role = _iam(account).get_role(cur.role_name)
        result = {
            "UserId": f"{role.id}:{cur.session}",
            "Account": account,
            "Arn": _session_arn(partition, account, cur),
        }
    body = xml_response("sts", "GetCallerIdentity", result)
    return OverrideResponse(status=200, body=body, headers={"Content-Type": "text/xml"})


def _hook(action: str) -> None:
    """Register (once) a handler refusing ``action`` while the current identity denies it."""
    with _lock:
        if action in _hooked:
            return
        _hooked.add(action)
    prefix, _, operation = action.partition(":")
    service = {"monitoring": "cloudwatch"}.get(prefix, prefix)

    def deny(req: OverrideRequest) -> OverrideResponse | None:
        with _lock:
            cur = _current
        if cur is None or not _is_caller(req):
            return None
        names = {str(v) for v in req.body.values() if isinstance(v, str)}
        if action not in cur.denied and not any(f"{action}/{n}" in cur.denied for n in names):
            return None
        who = _session_arn(str(get_partition(req.region)), req.account_id, cur)
        code = "AccessDenied" if service in ("iam", "sts", "s3") else "AccessDeniedException"
        raise AwsError(
            code,
            f"User: {who} is not authorized to perform: {action} because no identity-based policy "
            f"allows the {action} action",
            403,
        )

    register(service, operation)(deny)


# -- Lake Formation's principal rule --------------------------------------------------------------


def check_principal(ident: str) -> None:
    """Refuse an IAM user/role ARN that names no existing entity (path included), and STS ARNs."""
    if ident.startswith("arn:") and ":sts::" in ident:  # a session is not a principal
        raise AwsError("InvalidInputException", f"Invalid path for user, arn: {ident}")
    m = _IAM_ARN_RE.match(ident)
    if m is None:
        return  # IAM_ALLOWED_PRINCIPALS, account ids, SAML, QuickSight, organizations: not IAM entities
    partition, account, kind, rest = m.groups()
    iam = _iam(account, partition)
    name = rest.rsplit("/", 1)[-1]
    entity: Any = None
    try:
        entity = iam.get_role(name) if kind == "role" else iam.users.get(name)
    except Exception:
        entity = None
    if entity is None or entity.arn != ident:
        raise AwsError("InvalidInputException", f"Invalid path for user, arn: {ident}")


# -- who a request acts as, as Lake Formation names principals ------------------------------------


def request_access_key(req: OverrideRequest) -> str:
    """The access key a request is signed with ("" when unsigned)."""
    return _access_key(req)


def request_principal(req: OverrideRequest) -> str:
    """The IAM principal a request acts as, as Lake Formation grants name it (principal_arn)."""
    from emulator.core.auth import account_for

    key = _access_key(req)
    return principal_arn(account_for(key), key)


def issued_entity(req: OverrideRequest) -> Any | None:
    """The IAM role or user behind credentials the local AWS issued (an AssumeRole session, an IAM user's
    access key), whose policies IAM evaluates; None for the local caller's own credentials (``testing``,
    or the identity POST /_emulator/identity set), which the local AWS lets do anything."""
    from moto.sts.models import sts_backends

    key = _access_key(req)
    if not key:
        return None
    iam = _iam(req.account_id)
    assumed = sts_backends[req.account_id]["global"].get_assumed_role_from_access_key(key)
    if assumed is not None:
        try:
            return iam.get_role(str(assumed.arn).split("/")[1])
        except Exception:
            return None
    return iam.get_user_from_access_key_id(key)


def principal_arn(account_id: str, access_key: str) -> str:
    """The IAM principal a request signed with ``access_key`` acts as, in the form Lake Formation grants
    name: the IAM user's ARN, or the ARN of the role (path included) behind an assumed-role session; the
    local default credentials are the caller (``moto``, or the role ``POST /_emulator/identity`` set)."""
    from moto.sts.models import sts_backends

    iam = _iam(account_id)
    assumed = sts_backends[account_id]["global"].get_assumed_role_from_access_key(access_key)
    if assumed is not None:
        name = str(assumed.arn).split("/")[1]
        try:
            return str(iam.get_role(name).arn)
        except Exception:
            return str(assumed.role_arn)
    user = iam.get_user_from_access_key_id(access_key) if access_key else None
    if user is not None:
        return str(user.arn)
    with _lock:
        cur = _current
    if cur is None:
        return _user_arn(IAM_PARTITION, account_id)
    return str(iam.get_role(cur.role_name).arn)
