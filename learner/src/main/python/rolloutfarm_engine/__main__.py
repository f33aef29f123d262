"""Engine process: python3 -m rolloutfarm_engine --listen 127.0.0.1:0 --model builtin ...

The first stdout line is `ENGINE_PORT <port>` once the server accepts calls; logs go to
stderr. SIGTERM/SIGINT stop the server gracefully (SIGINT is ignored when the learner supervises
the engine: ROLLOUTFARM_ENGINE_SUPERVISED=1)."""

import argparse
import os
import signal
import sys
import threading


def _ensure_proto_on_path():
    try:
        import rolloutfarm_pb  # noqa: F401
    except ImportError:
        here = os.path.dirname(os.path.abspath(__file__))
        sys.path.insert(0, os.path.abspath(os.path.join(here, "..", "..", "..", "..", "..", "proto", "src", "main", "python")))


def parse_args(argv):
    p = argparse.ArgumentParser(prog="python3 -m rolloutfarm_engine", description="Rollout Farm PyTorch engine (EngineService)")
    p.add_argument("--listen", default="127.0.0.1:0", help="host:port; port 0 picks a free port (printed as ENGINE_PORT)")
    p.add_argument("--model", default="builtin",
                   help="builtin, builtin:{JSON config}, a checkpoint directory of this engine, or a Hugging Face model directory")
    p.add_argument("--seed", type=int, default=0, help="seed for initial weights, shuffling and unseeded sampling")
    p.add_argument("--device", default="auto", help="auto (CUDA when available), cpu or cuda")
    p.add_argument("--threads", type=int, default=0, help="CPU threads for torch; 0 = every core")
    p.add_argument("--exit-with-parent", action="store_true",
                   help="stop when the process that started the engine exits (the learner passes this, so that a "
                        "killed learner leaves no engine behind holding memory or a GPU)")
    p.add_argument("--micro-batch-tokens", type=int, default=8192,
                   help="padded positions per forward/backward chunk in training (memory bound)")
    return p.parse_args(argv)


def build_engine(args):
    import torch

    from .engine import Engine
    from .loader import build_backend, pick_device

    torch.set_num_threads(args.threads if args.threads > 0 else (os.cpu_count() or 1))
    torch.manual_seed(args.seed)
    backend, restore = build_backend(args.model, pick_device(args.device))
    engine = Engine(backend, seed=args.seed, micro_batch_tokens=args.micro_batch_tokens)
    if restore:
        engine.load(restore)
    return engine


def _watch_parent(parent, done):
    """Sets done once the engine has been re-parented, i.e. its starter exited (even by SIGKILL)."""
    while not done.wait(1.0):
        if os.getppid() != parent:
            print(f"engine: the process that started it (pid {parent}) exited; stopping", file=sys.stderr, flush=True)
            done.set()


def main(argv=None):
    parent = os.getppid()
    args = parse_args(sys.argv[1:] if argv is None else argv)
    _ensure_proto_on_path()
    from .errors import EngineError
    from .server import serve

    try:
        engine = build_engine(args)
        server, port = serve(engine, args.listen)
    except EngineError as e:
        print(f"engine: {e.code}: {e.message}", file=sys.stderr)
        return 2
    print(f"ENGINE_PORT {port}", flush=True)
    info = engine.info()
    print(f"engine: serving {info['model_name']} ({info['parameter_count']} parameters) on {info['device']} "
          f"at {args.listen.rsplit(':', 1)[0]}:{port}, policy version {info['policy_version']}", file=sys.stderr, flush=True)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    if os.environ.get("ROLLOUTFARM_ENGINE_SUPERVISED") == "1":
        # Ctrl-C in a terminal reaches the whole process group; the supervising learner must
        # outlive it to write a final checkpoint, and stops the engine itself (SIGTERM).
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    else:
        signal.signal(signal.SIGINT, lambda *_: done.set())
    if args.exit_with_parent:
        threading.Thread(target=_watch_parent, args=(parent, done), name="parent-watch", daemon=True).start()
    done.wait()
    server.stop(grace=5).wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
