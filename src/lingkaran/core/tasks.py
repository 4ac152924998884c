import os
import socket

from celery import shared_task


@shared_task(name="core.probe")
def probe(nonce: str) -> dict:
    """Report where it ran. Used by ``lingkaran doctor`` and the worker test to prove tasks reach real workers."""
    return {"nonce": nonce, "pid": os.getpid(), "host": socket.gethostname()}
