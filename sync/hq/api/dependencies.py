"""What HQ's routers take through FastAPI's ``Depends``.

- :data:`StoreEngine`: the engine on HQ's store, made once by ``create_app`` (one pool for
  every request of the worker);
- :data:`Keys`: HQ's unlocked keys, and :data:`Config` the worker's whole config (body limit);
- :data:`Rejections`: the rejection log, bound to the request's client address;
- :func:`signed_by_device`: the device-signature check of a device-signed request (the
  ``Fieldkit-Device``, ``Fieldkit-Time`` and ``Fieldkit-Signature`` headers, docs/PROTOCOL.md,
  "Device-signed requests"), giving the enrolled device whose key signed the request.
"""

# No ``from __future__ import annotations``: FastAPI reads these annotations at run time, and
# the one in :func:`signed_by_device` names a local (its ``target``), which only an annotation
# evaluated where it is written can see.

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy.engine import Engine
from starlette.concurrency import run_in_threadpool

from sync.hq import ingest, reference, store
from sync.hq.api.config import ServerConfig
from sync.hq.ingest import HttpProblem
from sync.hq.keys import HQKeys

# Every dependency here is ``async``: FastAPI would run a plain ``def`` in the thread pool.


async def store_engine(request: Request) -> Engine:
    """The engine on HQ's store (``create_app`` made and migrated it)."""
    return request.app.state.engine  # type: ignore[no-any-return]


async def worker_config(request: Request) -> ServerConfig:
    """The config this worker was built with."""
    return request.app.state.config  # type: ignore[no-any-return]


async def unlocked_keys(config: Annotated[ServerConfig, Depends(worker_config)]) -> HQKeys:
    """HQ's unlocked keys: the encryption keys batches are sealed to, the signing key."""
    return config.keys


StoreEngine = Annotated[Engine, Depends(store_engine)]
Config = Annotated[ServerConfig, Depends(worker_config)]
Keys = Annotated[HQKeys, Depends(unlocked_keys)]


def client_address(request: Request) -> str | None:
    """The address the request came from, as rejections record it."""
    return request.client.host if request.client else None


@dataclass(frozen=True, slots=True)
class RejectionLog:
    """HQ's record of refusals (``rejections`` and the log), for one request's client."""

    engine: Engine
    client: str | None

    def record(self, problem: HttpProblem, **ids: str | int | bool | None) -> HttpProblem:
        """Record ``problem`` with the device, batch or seq given; return it for raising."""
        return ingest.reject(self.engine, problem, client=self.client, **ids)  # type: ignore[arg-type]


async def rejection_log(request: Request, engine: StoreEngine) -> RejectionLog:
    """The rejection log for this request."""
    return RejectionLog(engine, client_address(request))


Rejections = Annotated[RejectionLog, Depends(rejection_log)]


# --- device-signed requests ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DeviceRequest:
    """A device-signed request: the path it must be signed over, whom refusals are logged under.

    ``logged_as`` is the device the request names (cut to 64 characters), not yet proven.
    """

    path: str
    logged_as: str | None


class DeviceRefused(Exception):
    """A device-signed request refused; ``refusals.answer_device_refused`` logs and answers it.

    ``verified``: the device's signature had verified (the device it is logged under is
    proven, not claimed).
    """

    def __init__(self, problem: HttpProblem, request: DeviceRequest, *, verified: bool) -> None:
        super().__init__(str(problem))
        self.problem = problem
        self.request = request
        self.verified = verified


@dataclass(frozen=True, slots=True)
class SignedDevice:
    """The enrolled device whose key signed this request, over its path, at an accepted time."""

    request: DeviceRequest
    device: store.Device

    def refused(self, problem: HttpProblem) -> DeviceRefused:
        """``problem`` as the refusal of this request, which the device proved it sent."""
        return DeviceRefused(problem, self.request, verified=True)


def _enrolled_signer(engine: Engine, creds: reference.Credentials, path: str) -> store.Device:
    """The enrolled device of ``creds`` once its key's signature over ``path`` verifies.

    ``unknown-device`` (403) for a device HQ does not know, ``bad-signature`` (401) otherwise.
    """
    with store.reading(engine) as conn:
        device = store.get_device(conn, creds.device_id)
    if device is None:
        raise HttpProblem("unknown-device", f"Device {creds.device_id} is not enrolled.", 403)
    reference.verify_request(device, creds, path)
    return device


def signed_by_device(target: Callable[..., Awaitable[DeviceRequest]]) -> Any:
    """The dependency that checks a device-signed request; ``target`` names its path.

    In order: the three headers are there and well formed (``unauthenticated`` 401), the time
    is within HQ's window (``clock-skew`` 401), the device is enrolled (``unknown-device``
    403), its key signed this path at that time (``bad-signature`` 401). A refusal is raised
    as :class:`DeviceRefused`, not verified.
    """

    async def signed(
        request: Request,
        engine: StoreEngine,
        asked: Annotated[DeviceRequest, Depends(target)],
    ) -> SignedDevice:
        try:
            creds = reference.credentials(request.headers)
            device = await run_in_threadpool(_enrolled_signer, engine, creds, asked.path)
        except HttpProblem as problem:
            raise DeviceRefused(problem, asked, verified=False) from None
        return SignedDevice(asked, device)

    return Depends(signed)
