"""Record against the loopback server, then replay offline: providers, fixtures, layout."""

from __future__ import annotations

import os

import pytest
import yaml

from pytest_ecs_agent.loopback import LoopbackServer

from .conftest import INI, dedent

# In-process inner runs re-register the already imported plugin package.
pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestAssertRewriteWarning")

PROVIDER_TESTS = '''
import pytest
import pytest_asyncio

import agent_code


@pytest.fixture
def claude_from_fixture():
    return agent_code.claude()


@pytest.fixture
def sync_warmed_up():
    """A sync fixture that runs its own event loop to call the model during setup."""
    import asyncio

    return asyncio.run(agent_code.ask(agent_code.claude(), "sync warm up"))


@pytest_asyncio.fixture
async def warmed_up():
    """An async fixture that calls the model during setup."""
    return await agent_code.ask(agent_code.openai(), "warm up")


@pytest.mark.llm_cassette
async def test_openai_created_at_import():
    assert await agent_code.ask(agent_code.MODULE_PROVIDER, "capital of France?") == (
        "echo: capital of France?")


@pytest.mark.llm_cassette
async def test_openai_stream():
    assert await agent_code.ask(agent_code.openai(), "stream me", stream=True) == (
        "echo: stream me")


@pytest.mark.llm_cassette
async def test_claude_from_fixture(claude_from_fixture):
    assert await agent_code.ask(claude_from_fixture, "hello claude") == "echo: hello claude"


@pytest.mark.llm_cassette
async def test_claude_stream():
    assert await agent_code.ask(agent_code.claude(), "stream claude", stream=True) == (
        "echo: stream claude")


@pytest.mark.llm_cassette
async def test_embeddings():
    vectors = await agent_code.embed(["alpha", "beta"])
    assert len(vectors) == 2 and len(vectors[0]) > 0 and vectors[0] != vectors[1]


@pytest.mark.llm_cassette
async def test_async_fixture_calls_are_recorded(warmed_up):
    assert warmed_up == "echo: warm up"


@pytest.mark.llm_cassette
class TestInClass:
    @pytest.mark.parametrize("city", ["paris", "tokyo"])
    async def test_city(self, city):
        assert await agent_code.ask(agent_code.openai(), city) == f"echo: {city}"

    def test_sync_test_with_event_loop(self, sync_warmed_up):
        import asyncio

        assert sync_warmed_up == "echo: sync warm up"
        assert asyncio.run(agent_code.ask(agent_code.claude(), "sync")) == "echo: sync"
'''

EXPECTED_FILES = [
    "test_openai_created_at_import.yaml", "test_openai_stream.yaml",
    "test_claude_from_fixture.yaml", "test_claude_stream.yaml", "test_embeddings.yaml",
    "test_async_fixture_calls_are_recorded.yaml", "TestInClass.test_city[paris].yaml",
    "TestInClass.test_city[tokyo].yaml", "TestInClass.test_sync_test_with_event_loop.yaml",
]


def test_record_then_replay_every_builtin_provider(project: pytest.Pytester,
                                                   echo_server: LoopbackServer) -> None:
    project.makepyfile(test_providers=PROVIDER_TESTS)

    recorded = project.runpytest("--llm-record-mode=once")
    recorded.assert_outcomes(passed=9)
    assert len(echo_server.requests) == 10
    cassette_dir = project.path / "cassettes" / "test_providers"
    assert sorted(p.name for p in cassette_dir.glob("*.yaml")) == sorted(EXPECTED_FILES)
    recorded.stdout.fnmatch_lines([
        "*- llm cassettes -*",
        "9 tests with a cassette: 9 recorded (10 interactions), 0 replayed (0 interactions), "
        "9 files written",
    ])
    data = yaml.safe_load((cassette_dir / "test_claude_stream.yaml").read_text())
    assert data["interactions"][0]["provider"] == "claude"
    assert "sk-test-replay-0000" not in (cassette_dir / "test_embeddings.yaml").read_text()

    for args in ([], ["--llm-replay=wire"]):
        replayed = project.runpytest(*args)
        replayed.assert_outcomes(passed=9)
        assert len(echo_server.requests) == 10, f"replay {args} reached the server"
        replayed.stdout.fnmatch_lines([
            "9 tests with a cassette: 0 recorded (0 interactions), 9 replayed (10 interactions), "
            "0 files written",
        ])


def test_replay_needs_no_server_and_no_key(project: pytest.Pytester,
                                           echo_server: LoopbackServer) -> None:
    project.makepyfile(test_one='''
        import pytest
        import agent_code

        @pytest.mark.llm_cassette
        async def test_one():
            assert await agent_code.ask(agent_code.openai(), "hi") == "echo: hi"
    ''')
    project.runpytest("--llm-record-mode=once").assert_outcomes(passed=1)
    echo_server.close()  # nothing listens any more
    assert "OPENAI_API_KEY" not in os.environ  # the placeholder key is used
    project.runpytest().assert_outcomes(passed=1)


def test_custom_provider_through_the_fixture(project: pytest.Pytester) -> None:
    project.makepyfile(test_custom=dedent('''
        import pytest
        from ecs_agent.providers import FakeProvider
        from ecs_agent.types import CompletionResult, Message

        LIVE = []

        class Mine(FakeProvider):
            async def respond(self, call):
                LIVE.append(call)
                return CompletionResult(Message("assistant", "from my model"))

        @pytest.mark.llm_cassette
        async def test_wrapped(llm_cassette):
            provider = llm_cassette.wrap(Mine(), name="mine")
            result = await provider.complete([Message("user", "hi")])
            assert result.message.content == "from my model"
            assert [i.provider for i in llm_cassette.interactions] == ["mine"]
            assert llm_cassette.path.name == "test_wrapped.yaml"
            print("LIVE CALLS", len(LIVE), "MODE", llm_cassette.record_mode)

        async def test_fixture_alone_opens_a_cassette(llm_cassette):
            assert llm_cassette.path.name == "test_fixture_alone_opens_a_cassette.yaml"
    '''))
    first = project.runpytest("--llm-record-mode=once", "-s")
    first.assert_outcomes(passed=2)
    first.stdout.fnmatch_lines(["*LIVE CALLS 1 MODE once*"])
    second = project.runpytest("-s")
    second.assert_outcomes(passed=2)
    second.stdout.fnmatch_lines(["*LIVE CALLS 0 MODE none*"])


def test_explicit_name_and_cassette_dir_ini(project: pytest.Pytester,
                                            echo_server: LoopbackServer) -> None:
    project.makeini(INI.format(mode="auto") + "llm_cassette_dir = recorded/llm\n")
    project.makepyfile(test_named='''
        import pytest
        import agent_code

        @pytest.mark.llm_cassette("shared/greeting")
        async def test_a():
            assert await agent_code.ask(agent_code.openai(), "hi") == "echo: hi"

        @pytest.mark.llm_cassette("shared/greeting.yaml")
        async def test_b():
            assert await agent_code.ask(agent_code.openai(), "hi") == "echo: hi"
    ''')
    project.runpytest("--llm-record-mode=new_episodes", "-p", "no:randomly").assert_outcomes(
        passed=2)
    path = project.path / "recorded" / "llm" / "shared" / "greeting.yaml"
    assert len(yaml.safe_load(path.read_text())["interactions"]) == 1  # b replayed a's call
    assert len(echo_server.requests) == 1
    project.runpytest().assert_outcomes(passed=2)
    assert len(echo_server.requests) == 1


def test_unreadable_cassette_is_a_setup_error(project: pytest.Pytester) -> None:
    project.makepyfile(test_broken='''
        import pytest

        @pytest.mark.llm_cassette
        def test_broken():
            pass

        def test_next():
            pass
    ''')
    broken = project.path / "cassettes" / "test_broken" / "test_broken.yaml"
    broken.parent.mkdir(parents=True)
    broken.write_text("version: 1\ninteractions: [\n")
    result = project.runpytest()
    result.assert_outcomes(errors=1, passed=1)
    result.stdout.fnmatch_lines(["*CassetteFormatError*test_broken.yaml*"])


def test_wider_fixtures_are_outside_the_cassette(project: pytest.Pytester,
                                                 echo_server: LoopbackServer) -> None:
    project.makepyfile(test_scopes='''
        import asyncio

        import pytest

        import agent_code

        @pytest.fixture(scope="module")
        def module_answer():
            return asyncio.run(agent_code.ask(agent_code.openai(), "module"))

        @pytest.mark.llm_cassette(allowed_hosts=["127.0.0.1"])
        async def test_uses_module_fixture(module_answer, llm_cassette):
            assert module_answer == "echo: module"
            assert await agent_code.ask(agent_code.openai(), "test") == "echo: test"
            assert [i.request["messages"][0]["content"] for i in llm_cassette.interactions] == [
                "test"]
    ''')
    project.runpytest("--llm-record-mode=once").assert_outcomes(passed=1)
    assert len(echo_server.requests) == 2
    project.runpytest().assert_outcomes(passed=1)  # only the module fixture went live
    assert [r.json["messages"][0]["content"] for r in echo_server.requests] == [
        "module", "test", "module"]


def test_fixture_requested_too_late_says_how_to_fix_it(project: pytest.Pytester) -> None:
    project.makepyfile(test_late='''
        def test_late(request):
            request.getfixturevalue("llm_cassette")
    ''')
    result = project.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*the llm_cassette fixture must be known when the test is "
                                 "collected*@pytest.mark.llm_cassette*"])
