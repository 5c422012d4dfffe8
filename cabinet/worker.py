"""The Celery worker's consumer, surviving a broker restart while busy.

Celery 5.7.0, after losing the broker connection, collects the connection and
then also closes it.  With Redis that close empties the channels' connection
pools, and kombu, which has detached the transport's client while collecting,
can no longer make new ones: putting back the unacknowledged tasks (during the
close) and acknowledging the tasks still running (after the reconnect) both
raise ``AttributeError: 'NoneType' object has no attribute 'hostname'``, which
Celery treats as unrecoverable.  A busy worker — ours acknowledge late, so a
busy worker always holds unacknowledged tasks — shut down for good on every
Redis restart during a campaign; idle ones survived.

This consumer leaves the collected connection unclosed, as Celery 5.6 did: the
old channels keep their pools, so the running tasks are acknowledged once Redis
is back, and the consumer reconnects on a new connection as usual.
``tests/ops/test_worker_broker_restart.py`` restarts Redis under a busy worker.
"""

from celery.worker.consumer import Consumer as CeleryConsumer


def _keep_open():
    """Stands in for close()/release() of a collected connection."""


class Consumer(CeleryConsumer):
    def on_connection_error_after_connected(self, exc):
        connection = self.connection
        if connection is not None:
            # Celery drops its reference right after closing it: the object
            # lives on only in the channels of the tasks still running.
            connection.close = connection.release = _keep_open
        super().on_connection_error_after_connected(exc)
