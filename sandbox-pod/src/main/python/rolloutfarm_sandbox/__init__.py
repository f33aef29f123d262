"""The sandbox runtime: a warm fork server ("zygote") and the session processes it forks.

The Java sandbox server starts ``python3 -m rolloutfarm_sandbox`` once. That process imports
the heavy libraries, then forks one child per session on request. Each child connects back to
the server over a Unix domain socket, proves who it is with a one-time token, locks itself
down (see :mod:`rolloutfarm_sandbox.isolation`) and then runs the model's code.
"""
