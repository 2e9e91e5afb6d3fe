"""gunicorn settings for serving live workshops: `gunicorn -c gunicorn.conf.py` (`make run-scaled`).

Every open SSE stream holds one worker thread for as long as the tab is open, so the worker class
is `gthread` with many threads: plain threads suit this app — sync psycopg and redis-py, blocking
queue waits that release the GIL — with no extra dependency and no monkey-patching (gevent would
patch the whole process: threading, sockets, redis-py; psycopg 3 copes since 3.1.14, but every
other library would have to as well). An idle stream costs a parked thread. Capacity ≈
workers × threads open streams plus the ordinary requests; raise GUNICORN_THREADS for big rooms.
With several workers set REDIS_URL (fan-out across processes) and DATABASE_URL to PostgreSQL
(one log for all of them).

Command-line flags override these (`--workers 4 --bind 0.0.0.0:8000`).
"""

import os

wsgi_app = "wsgi:app"
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "256"))
# gthread: `timeout` is the worker's heartbeat to the master, not a limit on a request, so an
# open stream is never cut by it.
timeout = 30
# On restart, open streams never finish by themselves: give ordinary requests a moment, then go;
# the clients reconnect with Last-Event-ID and miss nothing.
graceful_timeout = 5
keepalive = 5
# Each worker imports the app itself: the live layer starts its Redis listener in the worker
# that serves the first stream, never in the master.
preload_app = False
accesslog = os.environ.get("GUNICORN_ACCESSLOG")  # "-" for stdout
# gunicorn ≥ 27 opens a control socket at one fixed path per user; several masters on one host
# (tests, the benchmark, a second instance) would take it from each other. Off unless asked for.
control_socket_disable = not os.environ.get("GUNICORN_CONTROL_SOCKET")
