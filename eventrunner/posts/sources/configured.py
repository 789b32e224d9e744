"""The post sources a show runs: those its schedule names, with the credentials the
environment gives (a source that needs one it lacks is said once and left out)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

from eventrunner.config import PostCredentials
from eventrunner.core.schedule import PostCounting
from eventrunner.core.timeparse import parse_duration_ms
from eventrunner.posts.board import PostBoard
from eventrunner.posts.sources.jetstream import JetstreamSource
from eventrunner.posts.sources.mastodon import MastodonSource
from eventrunner.posts.sources.replay import ReplaySource
from eventrunner.posts.sources.supervisor import Source
from eventrunner.posts.sources.xcounts import XCountsSource
from eventrunner.posts.tally import Window

log = logging.getLogger(__name__)


def configured_sources(
    counting: PostCounting,
    hashtag: str,
    board: PostBoard,
    credentials: PostCredentials,
    window: Callable[[], Window],
    clock: Callable[[], int],
    replay: tuple[Path, float] | None = None,
) -> list[Source]:
    sources: list[Source] = []
    configured = counting.sources
    if configured.bluesky is not None:
        sources.append(JetstreamSource(configured.bluesky.url, board, hashtag))
    for mastodon in configured.mastodon:
        host = urlsplit(mastodon.instance).netloc.lower()
        token = credentials.mastodon_tokens.get(host)
        if token is None:
            log.info(
                "posts: %s has no user token (EVENTRUNNER_MASTODON_TOKENS): polling its tag timeline", host
            )
        every_s = parse_duration_ms(mastodon.every) / 1000
        sources.append(MastodonSource(mastodon.instance, board, hashtag, token, every_s))
    if configured.x is not None:
        if credentials.x_bearer_token is None:
            log.warning("posts: X is named but EVENTRUNNER_X_BEARER_TOKEN is not set: X is not counted")
        else:
            query = configured.x.query or f"{hashtag} -is:retweet"
            every_s = parse_duration_ms(configured.x.every) / 1000
            sources.append(
                XCountsSource(
                    configured.x.api, board, query, credentials.x_bearer_token, every_s, window, clock
                )
            )
    if replay is not None:
        sources.append(ReplaySource(replay[0], board, hashtag, replay[1], clock))
    return sources
