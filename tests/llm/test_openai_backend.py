"""OpenAIGenerator against a real HTTP server on loopback (tests/support/openai_server.py).

Only the model behind the server is scripted; HTTP, JSON, retries, timeouts and the
concurrency limit are exercised for real.
"""

import asyncio
import gc
import threading
import time

import pytest

from support.openai_server import Fault, ScriptedOpenAIServer
from theoremllama.errors import UserError
from theoremllama.llm import Sampling
from theoremllama.llm.factory import make_generator
from theoremllama.llm.openai_backend import GenerationError, OpenAIGenerator

# A failure in the stream's helper thread, or an exception nobody could catch, fails the test.
pytestmark = [pytest.mark.filterwarnings("error::pytest.PytestUnhandledThreadExceptionWarning"),
              pytest.mark.filterwarnings("error::pytest.PytestUnraisableExceptionWarning")]


def echo(body):
    """Answer with the last user message (or the prompt) reversed, so answers are checkable."""
    text = body["messages"][-1]["content"] if "messages" in body else body["prompt"]
    return text[::-1]


def fast(server, **kw):
    kw.setdefault("backoff_base", 0.01)
    return OpenAIGenerator("m", base_url=server.base_url, **kw)


def test_chat_and_completions_shapes_and_usage(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-123")
    with ScriptedOpenAIServer(echo) as server:
        gen = make_generator({"backend": "openai", "model": "m", "base_url": server.base_url})
        outs = gen.generate(["abc", [{"role": "user", "content": "xyz"}]], Sampling(n=3, seed=7, stop=["q"]))
        assert outs == [["cba"] * 3, ["zyx"] * 3]
        assert all(r["n"] == 3 and r["seed"] == 7 and r["stop"] == ["q"] for r in server.requests)
        assert server.requests[0]["messages"] == [{"role": "user", "content": "abc"}]
        assert all(h["Authorization"] == "Bearer sk-test-123" for h in server.headers)
        assert "sk-test-123" not in repr(gen)
        assert gen.usage.requests == 2 and gen.usage.prompt_tokens == 2 and gen.usage.completion_tokens == 6

        plain = fast(server, chat=False)
        assert plain.generate(["hello world"], Sampling(n=2)) == [["dlrow olleh"] * 2]
        assert server.requests[-1]["prompt"] == "hello world"
        with pytest.raises(UserError, match="chat: true"):
            plain.generate([[{"role": "user", "content": "x"}]], Sampling())


def test_no_key_no_authorization_header(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with ScriptedOpenAIServer(echo) as server:
        fast(server).generate(["a"], Sampling())
        assert "Authorization" not in server.headers[0]


def test_retries_429_with_and_without_retry_after_and_500():
    calls = []

    def flaky(body):
        calls.append(time.monotonic())
        k = len(calls)
        if k == 1:
            return Fault(status=429, retry_after=0.3)
        if k == 2:
            return Fault(status=429)
        if k == 3:
            return Fault(status=500)
        return "ok"

    with ScriptedOpenAIServer(flaky) as server:
        gen = fast(server)
        assert gen.generate(["p"], Sampling()) == [["ok"]]
        assert len(calls) == 4
        assert calls[1] - calls[0] >= 0.29  # Retry-After honoured
        assert calls[2] - calls[1] < 0.25   # otherwise short exponential backoff


def test_timeout_is_retried():
    calls = []

    def slow_first(body):
        calls.append(1)
        return Fault(status=500, delay=1.0) if len(calls) == 1 else "late but fine"

    with ScriptedOpenAIServer(slow_first) as server:
        gen = fast(server, timeout=0.3)
        start = time.monotonic()
        assert gen.generate(["p"], Sampling()) == [["late but fine"]]
        assert time.monotonic() - start < 0.95 and len(calls) == 2


def test_malformed_bodies_retried_then_clear_error():
    replies = iter([Fault(malformed=True), Fault(malformed=True, body='{"no_choices": 1}'), "fine"])
    with ScriptedOpenAIServer(lambda body: next(replies)) as server:
        assert fast(server).generate(["p"], Sampling()) == [["fine"]]
    with ScriptedOpenAIServer(lambda body: Fault(malformed=True)) as server:
        with pytest.raises(GenerationError, match="3 attempts.*malformed"):
            fast(server, max_retries=2).generate(["p"], Sampling())
        assert len(server.requests) == 3


def test_client_error_fails_fast():
    with ScriptedOpenAIServer(lambda body: Fault(status=401)) as server:
        with pytest.raises(GenerationError, match="HTTP 401"):
            fast(server).generate(["p"], Sampling())
        assert len(server.requests) == 1


def test_fewer_than_n_choices_topped_up():
    def stingy(body):
        return [f"s{body.get('seed')}-{i}" for i in range(min(2, body["n"]))]

    with ScriptedOpenAIServer(stingy) as server:
        outs = fast(server).generate(["p"], Sampling(n=5, seed=10))
        assert outs == [["s10-0", "s10-1", "s12-0", "s12-1", "s14-0"]]
        assert [r["n"] for r in server.requests] == [5, 3, 1]


def test_concurrency_limit_respected_and_order_kept():
    with ScriptedOpenAIServer(echo, latency=0.05) as server:
        gen = fast(server, concurrency=4)
        prompts = [f"p{i}" for i in range(20)]
        outs = gen.generate(prompts, Sampling())
        assert outs == [[p[::-1]] for p in prompts]
        assert server.max_in_flight == 4


def test_stream_yields_in_completion_order_and_works_inside_running_loop():
    def latency(body):
        return 0.3 if body["messages"][-1]["content"] == "slow" else 0.0

    with ScriptedOpenAIServer(echo, latency=latency) as server:
        gen = fast(server)
        streamed = list(gen.generate_stream(["slow", "fast"], Sampling()))
        assert streamed == [(1, ["tsaf"]), (0, ["wols"])]

        async def inside_loop():
            return gen.generate(["fast"], Sampling())  # a blocking call from async code

        assert asyncio.run(inside_loop()) == [["tsaf"]]


def test_connection_refused_is_retried_then_reported():
    gen = OpenAIGenerator("m", base_url="http://127.0.0.1:9/v1", max_retries=1, backoff_base=0.01)
    with pytest.raises(GenerationError, match="2 attempts"):
        gen.generate(["p"], Sampling())


def test_stream_consumer_stopping_early_cancels_the_rest():
    with ScriptedOpenAIServer(echo, latency=lambda body: 0.0 if body["messages"][-1]["content"] == "p0" else 5.0) as server:
        gen = fast(server, concurrency=8)
        start = time.monotonic()
        stream = gen.generate_stream([f"p{i}" for i in range(6)], Sampling())
        assert next(stream) == (0, ["0p"])
        stream.close()
        assert time.monotonic() - start < 3.0


def test_stream_end_is_race_free_when_the_consumer_thread_is_slow(monkeypatch):
    """Regression: the consumer used to ask the helper thread's loop to cancel after that loop
    could already be closed ("Event loop is closed"). The sleep below stands in for a consumer
    thread descheduled at that moment on a busy machine (timing injection, not a mock)."""
    schedule = asyncio.BaseEventLoop.call_soon_threadsafe

    def descheduled_first(loop, *args, **kwargs):
        if threading.current_thread() is threading.main_thread():
            time.sleep(0.05)
        return schedule(loop, *args, **kwargs)

    monkeypatch.setattr(asyncio.BaseEventLoop, "call_soon_threadsafe", descheduled_first)
    with ScriptedOpenAIServer(echo) as server:
        gen = fast(server)
        for _ in range(8):
            assert list(gen.generate_stream(["ab"], Sampling())) == [(0, ["ba"])]


def test_server_and_key_from_the_environment(monkeypatch):
    with ScriptedOpenAIServer(echo) as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", "sk-env")
        assert OpenAIGenerator("m").generate(["ab"], Sampling()) == [["ba"]]
        assert server.headers[0]["Authorization"] == "Bearer sk-env"


def test_choice_without_text_is_retried_and_a_long_retry_after_is_not():
    replies = iter([Fault(malformed=True, body='{"choices": [{"index": 0}]}'), "fine"])
    with ScriptedOpenAIServer(lambda body: next(replies)) as server:
        assert fast(server).generate(["p"], Sampling()) == [["fine"]]
        assert len(server.requests) == 2
    # A server asking for more than two minutes is not waited for (the SDK's rule): one attempt.
    with ScriptedOpenAIServer(lambda body: Fault(status=429, retry_after=600)) as server:
        with pytest.raises(GenerationError, match="after 1 attempt .*HTTP 429"):
            fast(server).generate(["p"], Sampling())
        assert len(server.requests) == 1


def test_rejected_key_names_its_variable_and_is_not_retried():
    with ScriptedOpenAIServer(lambda body: Fault(status=403)) as server:
        with pytest.raises(GenerationError, match=r"HTTP 403 \(check the API key in \$MY_KEY\)"):
            fast(server, api_key_env="MY_KEY").generate(["p"], Sampling())
        assert len(server.requests) == 1


def test_stream_raises_the_failure_and_stopping_early_leaves_nothing_pending(caplog):
    with ScriptedOpenAIServer(lambda body: Fault(status=401)) as server:
        with pytest.raises(GenerationError, match="HTTP 401"):
            list(fast(server).generate_stream(["a", "b"], Sampling()))
    slow_but_p0 = lambda body: 0.0 if body["messages"][-1]["content"] == "p0" else 5.0  # noqa: E731
    with ScriptedOpenAIServer(echo, latency=slow_but_p0) as server:
        stream = fast(server).generate_stream([f"p{i}" for i in range(4)], Sampling())
        assert next(stream) == (0, ["0p"])
        stream.close()
        del stream
        gc.collect()  # a task left pending on the closed loop is reported when it is collected
    assert not [r for r in caplog.records if r.name == "asyncio"], [r.getMessage() for r in caplog.records]


def test_async_stream_stopped_early_leaves_no_request_running():
    slow_but_p0 = lambda body: 0.0 if body["messages"][-1]["content"] == "p0" else 5.0  # noqa: E731

    async def stop_after_first(gen):
        stream = gen.astream(["p0", "p1", "p2"], Sampling())
        first = await stream.__anext__()
        await stream.aclose()
        running = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        await gen.aclose()
        return first, running

    with ScriptedOpenAIServer(echo, latency=slow_but_p0) as server:
        first, running = asyncio.run(stop_after_first(fast(server)))
    assert first == (0, ["0p"]) and running == []


def test_concurrent_requests_leave_in_prompt_order():
    """Servers schedule in arrival order (vLLM: first come, first served), so prompt order is the
    order of work; checked over fresh clients, whose first requests used to race."""
    with ScriptedOpenAIServer(echo) as server:
        prompts = [f"p{i}" for i in range(8)]
        for _ in range(10):
            server.requests.clear()
            fast(server).generate(prompts, Sampling())
            assert [r["messages"][0]["content"] for r in server.requests] == prompts

