"""Tag keys valid under every published rule, refused at load with one line (the env tag is otlp2pipeline-
env)."""

from __future__ import annotations

import pytest

from tasks.config import ENV_TAG, UserError, load


def test_the_env_tag_key_has_no_colon() -> None:
    assert ENV_TAG == "otlp2pipeline-env"
    assert load("prod").all_tags["otlp2pipeline-env"] == "prod"
    assert not [k for k in load("prod").all_tags if ":" in k]


@pytest.mark.parametrize(
    ("tags", "needle"),
    [
        ("{'team:name': x}", "tag key 'team:name' is invalid"),
        ("{team: 'a:b'}", "tag team='a:b' is invalid"),
        ("{'otlp2pipeline-owner': x}", "is reserved"),
        ("{'aws:x': y}", "tag key 'aws:x' is invalid"),
    ],
)
def test_user_tags_keep_to_every_rule(tags: str, needle: str) -> None:
    with pytest.raises(UserError) as err:
        load("prod", {"tags": tags})
    assert needle in str(err.value) and "\n" not in str(err.value)
    good = load("prod", {"tags": "{'cost-center': 'a.b/c=d+e@f g_h'}"})
    assert good.tags["cost-center"] == "a.b/c=d+e@f g_h"
