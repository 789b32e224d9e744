"""The participant page's bundles: every file of a bundle is in it, in order, minified
but still ES2020 for OBS's Chromium, and served like any static file (hashed, gzipped)."""

from __future__ import annotations

import gzip

import aiohttp
import pytest
import rcssmin
import rjsmin

from eventrunner.config import STATIC_DIR
from eventrunner.web.bundles import BUNDLES, bundle, bundles
from eventrunner.web.static import load_assets

from .test_frontend_syntax import assert_es2020


def test_a_bundle_holds_its_files_in_order_and_smaller():
    files = load_assets(STATIC_DIR)
    assets = {**files, **bundles(files)}
    for path, names in BUNDLES.items():
        text = assets[path].body.decode()
        at = 0
        for name in names:
            source = assets[name].body.decode()
            minified = (
                source.split("//# sourceMappingURL=")[0]
                if name.endswith(".min.js")
                else rjsmin.jsmin(source)
                if name.endswith(".js")
                else rcssmin.cssmin(source)
            )
            found = text.find(minified, at)
            assert found >= at, f"{name} is not in {path} after the files before it"
            at = found + len(minified)
        assert len(text) < sum(len(assets[name].body) for name in names)
        assert "sourceMappingURL" not in text  # the vendored file's map is not served
        gz = assets[path].gzip
        assert gz is not None and gzip.decompress(gz) == assets[path].body


def test_a_bundle_naming_a_missing_file_says_which():
    with pytest.raises(ValueError, match=r"js/nowhere\.js"):
        bundle(load_assets(STATIC_DIR), ("js/i18n.js", "js/nowhere.js"))


def test_the_script_bundle_is_es2020(tmp_path):
    out = tmp_path / "participant.js"
    out.write_bytes(bundles(load_assets(STATIC_DIR))["bundles/participant.js"].body)
    assert_es2020(str(out))


async def test_the_page_links_its_bundles_hashed_and_gzipped(running):
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{running.url}/") as response:
            page = await response.text()
        for path in BUNDLES:
            assert f"/static/{path}?v=" in page, path
            url = page.split(f"/static/{path}?v=", 1)[1].split('"', 1)[0]
            async with session.get(
                f"{running.url}/static/{path}?v={url}", headers={"Accept-Encoding": "gzip"}
            ) as response:
                assert response.status == 200
                assert response.headers["Content-Encoding"] == "gzip"
                assert "immutable" in response.headers["Cache-Control"]
