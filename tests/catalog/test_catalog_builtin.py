"""The packaged catalog: the seed model reads exactly as its page, and the data is sane."""

from __future__ import annotations

from decimal import Decimal

from aigw.catalog import (
    MEDIA,
    MODALITIES,
    REASONING_EFFORTS,
    WIRE_FORMATS,
    Capabilities,
    Price,
    PriceTier,
    builtin_catalog,
    capability_ids,
    load_catalog,
)

D = Decimal


def test_grok_4_3_matches_the_seed_page() -> None:
    m = builtin_catalog().get("xai/grok-4.3")
    assert m is not None
    assert (m.provider, m.upstream_id, m.name, m.family) == (
        "xai",
        "grok-4.3",
        "Grok 4.3",
        "Grok 4",
    )
    assert m.description == (
        "xAI's Grok 4.3 model with a 1M-token context window and strong agentic tool calling "
        "with minimal hallucinations. Accepts text and image inputs, and supports function "
        "calling, structured outputs, and configurable reasoning effort (none, low, medium, high)."
    )
    assert (m.context_window, m.max_output_tokens) == (1_000_000, 4096)
    assert m.modality == "text"
    assert (m.input_modalities, m.output_modalities) == (("text", "image"), ("text",))
    assert m.price == Price(
        input=D("1.25"),
        output=D("2.5"),
        cached_input=D("0.2"),
        reasoning=None,
        tiers=(
            PriceTier(above_tokens=200_000, input=D("2.5"), output=D("5"), cached_input=D("0.4")),
        ),
    )
    assert m.capabilities == Capabilities(
        streaming=True,
        tools=True,
        parallel_tools=False,
        vision=True,
        structured_outputs=True,
        json_mode=False,
        prompt_caching=False,
        reasoning=True,
        reasoning_efforts=("none", "low", "medium", "high"),
    )
    assert capability_ids(m) == ["streaming", "tools", "vision", "structured_outputs", "reasoning"]
    assert m.released == "2026-05-22"
    assert m.strengths == ("General-purpose chat", "Long context", "Tool use")
    assert m.use_cases == ("Chatbots", "Content generation", "Agentic workflows")


def test_providers() -> None:
    c = builtin_catalog()
    expected = {
        "xai", "openai", "anthropic", "google", "mistral", "deepseek", "groq", "together",
        "fireworks", "cohere", "openrouter", "perplexity", "ollama", "vllm", "simulator",
        "azure", "bedrock", "fal", "replicate", "local",
    }  # fmt: skip
    assert set(c.providers) == expected
    xai = c.provider("xai")
    assert xai is not None
    assert (xai.name, xai.wire_format, xai.base_url) == ("xAI", "openai", "https://api.x.ai/v1")
    assert (xai.api_key_env, xai.base_url_env, xai.key_required) == (
        "XAI_API_KEY",
        "XAI_BASE_URL",
        True,
    )
    anthropic, google = c.provider("anthropic"), c.provider("google")
    assert anthropic is not None and anthropic.wire_format == "anthropic"
    assert google is not None and google.wire_format == "gemini"
    for local, url in (
        ("ollama", "http://127.0.0.1:11434/v1"),
        ("vllm", "http://127.0.0.1:8000/v1"),
    ):
        p = c.provider(local)
        assert p is not None and p.base_url == url and not p.key_required
    ollama = c.provider("ollama")
    assert ollama is not None and ollama.api_key_env is None
    sim = c.provider("simulator")
    assert sim is not None
    assert (sim.wire_format, sim.base_url, sim.api_key_env, sim.key_required) == (
        "openai",
        "http://127.0.0.1:8090/v1",
        None,
        False,
    )


def test_simulator_models() -> None:
    c = builtin_catalog()
    chat, free = c.get("simulator/chat"), c.get("simulator/free")
    assert chat is not None and free is not None
    assert chat.upstream_id == "chat" and free.upstream_id == "free"
    assert chat.price.input == D("0.10") and chat.price.output == D("0.40")
    caps = chat.capabilities
    assert caps.streaming and caps.tools and caps.structured_outputs and caps.reasoning
    assert free.price.is_free and not chat.price.is_free
    chat_models = [m.id for m in c.filter(modality="text", provider="simulator")]
    assert chat_models == ["simulator/chat", "simulator/free"]


def test_well_known_models_come_from_the_price_file() -> None:
    c = builtin_catalog()
    mini = c.get("openai/gpt-4o-mini")
    assert mini is not None
    assert (mini.name, mini.family, mini.upstream_id) == ("GPT-4o Mini", "GPT-4o", "gpt-4o-mini")
    assert (mini.price.input, mini.price.output, mini.price.cached_input) == (
        D("0.15"),
        D("0.6"),
        D("0.075"),
    )
    assert mini.released == "2024-07-18"  # from its dated snapshot gpt-4o-mini-2024-07-18
    assert mini.capabilities.json_mode and mini.capabilities.parallel_tools
    gpt55 = c.get("openai/gpt-5.5")
    assert gpt55 is not None
    assert gpt55.capabilities.reasoning_efforts == ("none", "low", "medium", "high", "xhigh")
    assert [t.above_tokens for t in gpt55.price.tiers] == [272_000]
    opus = c.get("anthropic/claude-opus-4-7")
    assert opus is not None and opus.name == "Claude Opus 4.7"
    assert not opus.capabilities.sampling_params
    assert c.get("fireworks/kimi-k2p6") is not None
    kimi = c.get("fireworks/kimi-k2p6")
    assert kimi is not None and kimi.upstream_id == "accounts/fireworks/models/kimi-k2p6"
    embed = c.get("openai/text-embedding-3-small")
    assert embed is not None and embed.modality == "embedding"
    assert embed.output_modalities == ("embedding",) and not embed.capabilities.streaming


def test_deprecated_and_skipped_entries_are_left_out() -> None:
    c = builtin_catalog()
    assert c.get("openai/gpt-3.5-turbo") is None  # skip list
    assert c.get("openai/ft:gpt-4o-mini-2024-07-18") is None  # fine-tune pricing
    assert c.get("perplexity/pplx-70b-chat") is None
    assert c.get("together/together-ai-4.1b-8b") is None  # pricing bucket, not a model
    assert not [m for m in c.models if m.id.endswith("/schema")]


def test_every_model_is_consistent() -> None:
    c = builtin_catalog()
    assert 300 <= len(c) <= 1500
    for m in c.models:
        assert m.provider in c.providers, m.id
        assert m.id.startswith(m.provider + "/"), m.id
        assert m.modality in MODALITIES, m.id
        assert set(m.input_modalities) <= set(MEDIA) and m.output_modalities, m.id
        assert m.name and m.family and m.description, m.id
        caps = m.capabilities
        assert set(caps.reasoning_efforts) <= set(REASONING_EFFORTS), m.id
        assert not caps.reasoning_efforts or caps.reasoning, m.id
        if caps.vision:
            assert "image" in m.input_modalities, m.id
        assert m.price.input >= 0 and m.price.output >= 0, m.id
        tiers = [t.above_tokens for t in m.price.tiers]
        assert tiers == sorted(set(tiers)), m.id
    assert {p.wire_format for p in c.providers.values()} <= set(WIRE_FORMATS)
    assert {m.modality for m in c.models} >= {"text", "embedding", "image"}


def test_filter() -> None:
    c = builtin_catalog()
    xai_text = c.filter(modality="text", provider="xai")
    assert xai_text and all(m.provider == "xai" and m.modality == "text" for m in xai_text)
    assert c.filter(provider="nope") == []
    assert len(c.filter()) == len(c.models)
    assert "xai/grok-4.3" in c and "xai/nope" not in c


def test_loading_is_cached() -> None:
    """Loaded once per process (its load time is a bench matter, not a unit test's)."""
    builtin_catalog.cache_clear()
    first = load_catalog()
    assert load_catalog() is first and builtin_catalog() is first


def test_job_models_are_priced_per_unit_in_the_catalog() -> None:
    """Video, music and 3D models come from the catalog (overrides.toml), priced per second
    or per item, on the queue-style providers; the job path reads them from there."""
    from aigw.jobs.models import job_models, resolve

    c = builtin_catalog()
    jobs = {m.id: m for m in job_models(c)}
    assert set(jobs) >= {"fal/kling-video-v2.1", "fal/trellis", "replicate/minimax-video-01"}
    assert {m.modality for m in jobs.values()} == {"video", "music", "3d"}
    kling = c.get("fal/kling-video-v2.1")
    assert kling is not None and kling.modality == "video"
    assert kling.price.per_second == D("0.05") and kling.price.max_seconds == D("10")
    assert not kling.price.is_free and c.provider("fal").wire_format == "queue"  # type: ignore[union-attr]
    trellis = c.get("fal/trellis")
    assert trellis is not None and trellis.price.per_item == D("0.02")
    assert resolve(c, "video", None).id == "fal/kling-video-v2.1"
    for model in jobs.values():
        assert c.provider(model.provider) is not None


def test_the_in_process_model() -> None:
    """local/all-minilm-l6-v2: served by the gateway itself, free, no key."""
    c = builtin_catalog()
    m, p = c.get("local/all-minilm-l6-v2"), c.provider("local")
    assert m is not None and p is not None
    assert (m.modality, m.output_modalities, m.context_window) == ("embedding", ("embedding",), 256)
    assert m.price.is_free and not p.key_required
    assert p.base_url.startswith("http://in-process.invalid")
