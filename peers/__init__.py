"""Peer servers: other people's code for the same job, measured beside pushlab's own.

pushlab's four servers are written to be read. So that their figures say something about the
techniques and not only about our code, the bench runs these peers in the same way (their own
process, the same ``/publisher`` control, ``/stats`` from the same metering layer) and puts
their rows beside ours: the textbook broadcast loop (the simplest correct code), the
``websockets`` library's ``broadcast()``, python-socketio (what many deploy), aiohttp-sse, and a
bare aiohttp handler that answers every poll with a constant "nothing new" (the floor of an
empty poll answer).
Their names and the technique each compares with are in :data:`pushlab.techniques.PEERS`.
"""
