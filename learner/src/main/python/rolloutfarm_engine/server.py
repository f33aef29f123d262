"""gRPC front of the engine: EngineService over rolloutfarm_pb's runtime-built messages.

Calls are served one at a time (the engine holds one model and one optimizer). Engine errors
become their status codes; anything unexpected becomes INTERNAL with the exception."""

import functools
import threading
import traceback
from concurrent import futures

import grpc

from .engine import SampleRequestItem, TrainSeq
from .errors import EngineError

_FINISH = {"STOP": "FINISH_REASON_STOP", "EOS": "FINISH_REASON_EOS", "LENGTH": "FINISH_REASON_LENGTH"}
MAX_MESSAGE_BYTES = 512 * 1024 * 1024


def _rpc(fn):
    @functools.wraps(fn)
    def wrapper(self, request, context):
        with self.lock:
            try:
                return fn(self, request)
            except EngineError as e:
                context.abort(getattr(grpc.StatusCode, e.code), e.message)
            except MemoryError as e:
                context.abort(grpc.StatusCode.RESOURCE_EXHAUSTED, f"out of memory: {e}; send smaller batches")
            except Exception as e:  # noqa: BLE001 - the boundary reports every failure
                if "out of memory" in str(e):
                    context.abort(grpc.StatusCode.RESOURCE_EXHAUSTED, f"out of memory: {e}; send smaller batches")
                traceback.print_exc()
                context.abort(grpc.StatusCode.INTERNAL, f"{type(e).__name__}: {e}")
    return wrapper


def _images(images):
    return [im.png for im in images]


class EngineServicer:
    def __init__(self, engine, pb):
        self.engine = engine
        self.pb = pb
        self.lock = threading.Lock()

    @_rpc
    def Info(self, request):
        return self.pb.EngineInfo(**self.engine.info())

    @_rpc
    def Tokenize(self, request):
        return self.pb.TokenizeResponse(token_ids=self.engine.tokenize(request.text))

    @_rpc
    def Sample(self, request):
        items = [SampleRequestItem(list(it.prompt_token_ids), _images(it.images), it.params.temperature,
                                   it.params.top_p, it.params.max_new_tokens, tuple(it.params.stop), it.params.seed)
                 for it in request.items]
        outs, seconds = self.engine.sample(items)
        pb = self.pb
        results = [pb.SampleResult(token_ids=o.token_ids, logprobs=o.logprobs, text=o.text,
                                   finish_reason=getattr(pb, _FINISH[o.finish_reason]), matched_stop=o.matched_stop)
                   for o in outs]
        return pb.SampleResponse(results=results, policy_version=self.engine.policy_version,
                                 generated_tokens=sum(len(o.token_ids) for o in outs), seconds=seconds)

    @_rpc
    def TrainStep(self, request):
        seqs = [TrainSeq(list(s.token_ids), list(s.loss_mask), _images(s.images), list(s.old_logprobs), s.advantage)
                for s in request.sequences]
        r = self.engine.train_step(seqs, request.learning_rate, request.clip_low, request.clip_high,
                                   request.max_grad_norm, request.mini_batch_size, request.epochs,
                                   request.loss_aggregation)
        return self.pb.TrainStepResponse(**r)

    @_rpc
    def SupervisedStep(self, request):
        seqs = [TrainSeq(list(s.token_ids), list(s.loss_mask), _images(s.images)) for s in request.sequences]
        r = self.engine.supervised_step(seqs, request.learning_rate, request.max_grad_norm)
        return self.pb.SupervisedStepResponse(**r)

    @_rpc
    def SaveCheckpoint(self, request):
        files, version = self.engine.save(request.directory)
        return self.pb.SaveCheckpointResponse(files=files, policy_version=version)

    @_rpc
    def LoadCheckpoint(self, request):
        return self.pb.LoadCheckpointResponse(policy_version=self.engine.load(request.directory))


def serve(engine, listen):
    """Starts the server on host:port (port 0 picks a free one); returns (server, port)."""
    import rolloutfarm_pb

    pb = rolloutfarm_pb.pb
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4),
                         options=[("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
                                  ("grpc.max_send_message_length", MAX_MESSAGE_BYTES)])
    server.add_generic_rpc_handlers((rolloutfarm_pb.service_handler(pb.EngineService, EngineServicer(engine, pb)),))
    port = server.add_insecure_port(listen)
    if port == 0:
        raise EngineError("UNAVAILABLE", f"cannot listen on {listen} (address in use or invalid)")
    server.start()
    return server, port
