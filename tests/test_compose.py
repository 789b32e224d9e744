"""The scale-out deployment: docker-compose.yml (Redis, two or more servers, nginx) and
deploy/nginx.conf, checked without Docker.

The compose file is read with PyYAML and its structure checked; nginx.conf is read with a
small parser here and its routing checked, then, where nginx is installed (tests/run.sh
installs Debian's), given to `nginx -t` in a copy that runs without root and without
Docker's DNS. With CI=true a missing nginx fails the test instead of skipping it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = ROOT / "docker-compose.yml"
NGINX_CONF = ROOT / "deploy" / "nginx.conf"
DOCKERFILE = ROOT / "Dockerfile"
PORT = 8080  # the servers' port inside their containers (Dockerfile)
SECRETS = ("EVENTRUNNER_PRODUCER_PASSWORD", "EVENTRUNNER_API_TOKEN")
SOCKET_PATHS = ("/live/", "/socket.io/")
PROXIED_HEADERS = {
    "host": "$http_host",
    "x-forwarded-for": "$proxy_add_x_forwarded_for",
    "x-forwarded-proto": "$scheme",
}


# -- docker-compose.yml --------------------------------------------------------------


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


@pytest.fixture(scope="module")
def services(compose: dict) -> dict[str, dict]:
    return compose["services"]


@pytest.fixture(scope="module")
def apps(services: dict[str, dict]) -> dict[str, dict]:
    """The eventrunner processes: the services built from this repository's Dockerfile."""
    return {name: service for name, service in services.items() if "build" in service}


def words(command: str | list[str]) -> list[str]:
    return command.split() if isinstance(command, str) else [str(word) for word in command]


def option(command: list[str], name: str) -> str | None:
    """The value of `--name VALUE` or `--name=VALUE`."""
    for i, word in enumerate(command):
        if word == name and i + 1 < len(command):
            return command[i + 1]
        if word.startswith(name + "="):
            return word.split("=", 1)[1]
    return None


def healthcheck_text(service: dict) -> str:
    test = service["healthcheck"]["test"]
    return " ".join(words(test))


def published(service: dict) -> list[str]:
    return [str(port) for port in service.get("ports", [])]


def depends_on(service: dict) -> dict[str, dict]:
    """depends_on in its long form (the short form is a list: started, not healthy)."""
    value = service.get("depends_on", {})
    if isinstance(value, list):
        return {name: {"condition": "service_started"} for name in value}
    return value


def mounts(service: dict) -> dict[str, str]:
    """target -> source for each short-syntax volume ("source:target[:mode]")."""
    found = {}
    for volume in service.get("volumes", []):
        assert isinstance(volume, str), f"use the short volume syntax: {volume!r}"
        source, target = volume.split(":")[:2]
        found[target] = source
    return found


def test_services_are_redis_the_servers_and_nginx(services, apps):
    assert set(services) == {"redis", "nginx", *apps}
    assert len(apps) >= 2, "two or more eventrunner processes"
    assert services["redis"]["image"].split(":")[0] == "redis"
    assert services["redis"]["image"].split(":")[1].split(".")[0] == "7"
    assert services["nginx"]["image"].split(":")[0] == "nginx"
    for name, app in apps.items():
        build = app["build"]
        context = build if isinstance(build, str) else build.get("context", ".")
        assert (ROOT / context / "Dockerfile").resolve() == DOCKERFILE, name


def test_only_nginx_publishes_a_port(services):
    for name, service in services.items():
        if name != "nginx":
            assert not published(service), f"{name} must be reachable through nginx only"
    ports = published(services["nginx"])
    assert ports, "nginx publishes the public port"
    for port in ports:
        container = port.split(":")[-1].split("/")[0]
        assert int(container) in nginx_listen_ports(), f"{port}: nginx does not listen on {container}"


def test_redis_keeps_an_append_only_file_on_a_named_volume(compose, services):
    redis = services["redis"]
    command = words(redis["command"])
    assert command[0] == "redis-server"
    assert option(command, "--appendonly") == "yes"
    source = mounts(redis)["/data"]
    assert source in compose["volumes"], "a named volume, so the show outlives the container"
    assert "redis-cli ping" in healthcheck_text(redis)


def test_the_servers_share_redis_behind_the_proxy(services, apps):
    for name, app in apps.items():
        command = words(app["command"])
        url = option(command, "--redis-url")
        assert url is not None, f"{name}: --redis-url"
        assert re.fullmatch(r"redis://redis:6379/\d+", url), f"{name}: {url} is not the redis service"
        assert "--behind-proxy" in command, name
        assert "--workers" not in command, f"{name}: one process per container; scale with services"
        assert "--demo" in command or any(word.endswith((".yaml", ".yml")) for word in command), name
    commands = {json.dumps(words(app["command"])) for app in apps.values()}
    assert len(commands) == 1, "every process runs the same schedule, with the same options"


def test_the_servers_get_the_same_secrets_from_the_environment(apps):
    environments = [app["environment"] for app in apps.values()]
    for environment in environments:
        for secret in SECRETS:
            # Required: ${NAME:?message} stops `docker compose up` when .env lacks it.
            assert re.fullmatch(r"\$\{" + secret + r":\?[^}]+\}", environment[secret]), secret
        for name, value in environment.items():
            # The others (the session key) from .env too, or unset: never written here.
            assert re.fullmatch(r"\$\{" + name + r"(:[?-][^}]*)?\}", str(value)), name
    assert all(environment == environments[0] for environment in environments)


def test_each_server_keeps_its_own_data_dir(compose, apps):
    # A data dir is locked by the process that uses it: two processes on one would fail.
    sources = [mounts(app)["/data"] for app in apps.values()]
    assert len(set(sources)) == len(sources)
    for source in sources:
        assert source in compose["volumes"]


def test_the_dockerfile_serves_on_the_port_nginx_proxies_to():
    entrypoint = next(line for line in DOCKERFILE.read_text().splitlines() if line.startswith("ENTRYPOINT"))
    command = json.loads(entrypoint.removeprefix("ENTRYPOINT"))
    assert command[:2] == ["eventrunner", "serve"]
    assert option(command, "--host") == "0.0.0.0"
    assert option(command, "--port") == str(PORT)
    assert option(command, "--data-dir") == "/data"


def test_healthchecks_and_start_order(services, apps):
    for name, app in apps.items():
        assert f"127.0.0.1:{PORT}/healthz" in healthcheck_text(app), name
        assert depends_on(app)["redis"]["condition"] == "service_healthy", name
        assert app.get("restart") in ("always", "unless-stopped"), name
    # nginx waits for the servers to start, not to be healthy: one that is down must not
    # keep the proxy, and so the other, off the air.
    proxy = depends_on(services["nginx"])
    assert set(proxy) == set(apps)
    for name in apps:
        assert proxy[name]["condition"] == "service_started", name


def test_nginx_gets_its_config_from_deploy(services):
    volumes = services["nginx"]["volumes"]
    assert "./deploy/nginx.conf:/etc/nginx/nginx.conf:ro" in volumes


def test_open_file_limits_fit_nginx_and_the_servers(services, apps):
    config = nginx_config()
    wanted = int(one(config, "worker_rlimit_nofile").args[0])
    for name in ("nginx", *apps):
        nofile = services[name]["ulimits"]["nofile"]
        assert min(nofile["soft"], nofile["hard"]) >= wanted, name


# -- deploy/nginx.conf ---------------------------------------------------------------


@dataclass
class Directive:
    name: str
    raw: list[str]  # the arguments as written (quotes kept), to write the file back
    block: list[Directive] | None = None
    line: int = field(default=0, compare=False)
    args: list[str] = field(init=False)

    def __post_init__(self) -> None:
        self.args = [unquote(word) for word in self.raw]


def unquote(word: str) -> str:
    if len(word) >= 2 and word[0] == word[-1] and word[0] in "\"'":
        return word[1:-1]
    return word


def tokens(text: str):
    """(token, line) for nginx's syntax: words, quoted strings, `{`, `}`, `;`; # comments."""
    i, line = 0, 1
    while i < len(text):
        char = text[i]
        if char == "\n":
            line += 1
            i += 1
        elif char.isspace():
            i += 1
        elif char == "#":
            while i < len(text) and text[i] != "\n":
                i += 1
        elif char in "{};":
            yield char, line
            i += 1
        elif char in "\"'":
            end = text.index(char, i + 1)
            while text[end - 1] == "\\":
                end = text.index(char, end + 1)
            yield text[i : end + 1], line
            line += text.count("\n", i, end)
            i = end + 1
        else:
            start = i
            while i < len(text) and not text[i].isspace() and text[i] not in ";{}":
                if text[i] == "$" and text.startswith("${", i):  # ${variable}
                    i = text.index("}", i)
                i += 1
            yield text[start:i], line


def parse(text: str) -> list[Directive]:
    stack: list[list[Directive]] = [[]]
    words_: list[tuple[str, int]] = []
    for token, line in tokens(text):
        if token == ";":
            assert words_, f"line {line}: empty directive"
            stack[-1].append(Directive(words_[0][0], [w for w, _ in words_[1:]], line=words_[0][1]))
            words_ = []
        elif token == "{":
            assert words_, f"line {line}: a block without a name"
            block: list[Directive] = []
            stack[-1].append(Directive(words_[0][0], [w for w, _ in words_[1:]], block, words_[0][1]))
            stack.append(block)
            words_ = []
        elif token == "}":
            assert not words_ and len(stack) > 1, f"line {line}: unexpected }}"
            stack.pop()
        else:
            words_.append((token, line))
    assert not words_ and len(stack) == 1, "unterminated directive or block"
    return stack[0]


def dump(directives: list[Directive], indent: str = "") -> str:
    out = []
    for directive in directives:
        head = " ".join([directive.name, *directive.raw])
        if directive.block is None:
            out.append(f"{indent}{head};\n")
        else:
            out.append(f"{indent}{head} {{\n{dump(directive.block, indent + '    ')}{indent}}}\n")
    return "".join(out)


def nginx_config() -> list[Directive]:
    return parse(NGINX_CONF.read_text())


def every(block: list[Directive], name: str) -> list[Directive]:
    return [directive for directive in block if directive.name == name]


def one(block: list[Directive], name: str) -> Directive:
    found = every(block, name)
    assert len(found) == 1, f"expected one {name}, found {len(found)}"
    return found[0]


def http_block() -> list[Directive]:
    return one(nginx_config(), "http").block


def upstreams() -> dict[str, list[Directive]]:
    return {directive.args[0]: directive.block for directive in every(http_block(), "upstream")}


def servers() -> list[list[Directive]]:
    return [directive.block for directive in every(http_block(), "server")]


def nginx_listen_ports() -> set[int]:
    ports = set()
    for server in servers():
        for listen in every(server, "listen"):
            ports.add(int(listen.args[0].rsplit(":", 1)[-1]))
    return ports


def locations() -> dict[str, tuple[list[Directive], list[Directive]]]:
    """path -> (its server, the location's block)."""
    found = {}
    for server in servers():
        for location in every(server, "location"):
            found[location.args[-1]] = (server, location.block)
    return found


def effective(name: str, *levels: list[Directive]) -> list[Directive]:
    """What applies in the innermost level: nginx inherits a directive such as
    proxy_set_header from the level above only where a level sets none of it."""
    for level in reversed(levels):
        found = every(level, name)
        if found:
            return found
    return []


def headers_sent(server: list[Directive], location: list[Directive]) -> dict[str, str]:
    found = effective("proxy_set_header", http_block(), server, location)
    return {directive.args[0].lower(): directive.args[1] for directive in found}


def seconds(value: str) -> float:
    number, unit = re.fullmatch(r"(\d+)(ms|s|m|h)?", value).groups()
    return int(number) * {"ms": 0.001, "s": 1, None: 1, "m": 60, "h": 3600}[unit]


def test_nginx_conf_parses_into_one_http_block():
    config = nginx_config()
    assert {directive.name for directive in config} >= {"events", "http"}
    # The file runs both in the official image and (tests) on Debian: no user, pid or
    # include that only one of them has.
    assert not every(config, "user")
    assert not every(config, "include") and not every(http_block(), "include")


def test_every_server_is_behind_each_upstream(apps):
    pools = upstreams()
    assert pools
    for name, pool in pools.items():
        members = {directive.args[0] for directive in every(pool, "server")}
        assert members == {f"{app}:{PORT}" for app in apps}, name


def test_socket_io_is_sticky_and_the_rest_is_not(apps):
    paths = locations()
    pools = upstreams()

    def pool_of(path: str) -> list[Directive]:
        _server, location = paths[path]
        target = one(location, "proxy_pass").args[0]
        assert target.startswith("http://"), target
        return pools[target.removeprefix("http://")]

    # Long-polling: every request of a session must reach the process that holds it.
    sticky = pool_of("/socket.io/")
    assert every(sticky, "ip_hash") or any(
        directive.args[0] in ("$remote_addr", "$binary_remote_addr") for directive in every(sticky, "hash")
    )
    # The lane is websocket-only, pages and the API stateless: spread them.
    for path in ("/", "/live/"):
        pool = pool_of(path)
        assert not every(pool, "ip_hash") and not every(pool, "hash"), path


def test_websockets_are_upgraded_on_both_socket_paths():
    config = http_block()
    upgrade_map = next(d for d in every(config, "map") if d.args == ["$http_upgrade", "$connection_upgrade"])
    assert {(unquote(d.name), *d.args) for d in upgrade_map.block} == {("default", "upgrade"), ("", "close")}
    for path in SOCKET_PATHS:
        server, location = locations()[path]
        headers = headers_sent(server, location)
        assert headers["upgrade"] == "$http_upgrade", path
        assert headers["connection"] == "$connection_upgrade", path
        http_version = effective("proxy_http_version", config, server, location)
        assert http_version and http_version[0].args == ["1.1"], path
        # Longer than the 25 s heartbeat (docs/SECURITY.md), and long-polling's wait.
        timeout = effective("proxy_read_timeout", config, server, location)
        assert timeout and seconds(timeout[0].args[0]) == 75, path


def test_every_location_passes_the_client_and_the_host_with_its_port():
    for path, (server, location) in locations().items():
        headers = headers_sent(server, location)
        for name, value in PROXIED_HEADERS.items():
            assert headers.get(name) == value, f"{path}: proxy_set_header {name} {value}"


def test_limits_per_address_fit_a_watch_party():
    config = http_block()
    zones = {}
    for directive in every(config, "limit_conn_zone") + every(config, "limit_req_zone"):
        assert directive.args[0] in ("$binary_remote_addr", "$remote_addr"), directive.args
        zone = next(arg for arg in directive.args if arg.startswith("zone="))
        name = zone.removeprefix("zone=").split(":")[0]
        zones[name] = directive
    for server in servers():
        conn = effective("limit_conn", config, server)
        assert conn, "limit_conn: the servers behind a proxy cannot cap an address's connections"
        assert conn[0].args[0] in zones
        # The servers allow an address 2,000 live sockets; pages and API come on top.
        assert int(conn[0].args[1]) >= 2000
        req = effective("limit_req", config, server)
        assert req, "limit_req"
        options = dict(arg.split("=", 1) for arg in req[0].args if "=" in arg)
        assert options["zone"] in zones
        # Hundreds of phones loading the page (and its scripts) at once from one address.
        assert int(options["burst"]) >= 1000
        assert "nodelay" in req[0].args
        rate = next(a for a in zones[options["zone"]].args if a.startswith("rate="))
        number, unit = re.fullmatch(r"rate=(\d+)r/([sm])", rate).groups()
        per_second = int(number) / (60 if unit == "m" else 1)
        assert per_second >= 20, "at least the servers' 1,200 page loads a minute"


def test_nginx_holds_the_sockets_of_a_big_show():
    # Each proxied socket holds two connections.
    events = one(nginx_config(), "events").block
    assert int(one(events, "worker_connections").args[0]) >= 8192


def test_the_parser_reads_what_nginx_reads():
    text = """
    # a comment { ;
    events { worker_connections 10; }
    http {
        map $http_upgrade $connection_upgrade { default upgrade; '' close; }
        server { location / { proxy_set_header Connection ""; return 200 "a;b{c}"; } }
    }
    """
    config = parse(text)
    assert [d.name for d in config] == ["events", "http"]
    location = one(one(one(config, "http").block, "server").block, "location")
    assert location.args == ["/"]
    assert [d.args for d in location.block] == [["Connection", ""], ["200", "a;b{c}"]]
    assert parse(dump(config)) == config


# -- nginx -t ------------------------------------------------------------------------


def nginx_binary() -> str:
    found = shutil.which("nginx") or next(
        (path for path in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if os.access(path, os.X_OK)), None
    )
    if found is None:
        reason = "nginx is not installed (tests/run.sh installs Debian's)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason}: CI must check deploy/nginx.conf with nginx -t")
        pytest.skip(reason)
    return found


def checkable_copy(config: list[Directive], tmp: Path, nginx: str) -> list[Directive]:
    """deploy/nginx.conf as nginx -t can check it here: the compose service names (only
    Docker's DNS knows them) become loopback addresses, and the pid file and temp dirs
    (Debian's are root's) go to `tmp`."""
    hosts: dict[str, str] = {}
    for directive in every(one(config, "http").block, "upstream"):
        for server in every(directive.block, "server"):
            host, port = server.raw[0].rsplit(":", 1)
            address = hosts.setdefault(host, f"127.0.0.{len(hosts) + 1}")
            server.raw[0] = f"{address}:{port}"
    assert hosts, "no upstream servers to rewrite"
    config = [d for d in config if d.name != "pid"]
    config.insert(0, Directive("pid", [str(tmp / "nginx.pid")]))
    built = subprocess.run([nginx, "-V"], capture_output=True, text=True).stderr
    temp_paths = [Directive("client_body_temp_path", [str(tmp / "body")])]
    for module in ("proxy", "fastcgi", "uwsgi", "scgi"):
        if f"--without-http_{module}_module" not in built:
            temp_paths.append(Directive(f"{module}_temp_path", [str(tmp / module)]))
    http = one(config, "http")
    http.block[:0] = temp_paths
    return config


def nginx_test(nginx: str, config: list[Directive], tmp: Path) -> subprocess.CompletedProcess[str]:
    path = tmp / "nginx.conf"
    path.write_text(dump(config))
    command = [nginx, "-t", "-p", f"{tmp}/", "-c", str(path)]
    if "-e filename" in subprocess.run([nginx, "-h"], capture_output=True, text=True).stderr:
        command += ["-e", "stderr"]  # not the built-in log path, which may be root's
    return subprocess.run(command, capture_output=True, text=True, timeout=30)


def test_nginx_accepts_the_config(tmp_path):
    nginx = nginx_binary()
    result = nginx_test(nginx, checkable_copy(nginx_config(), tmp_path, nginx), tmp_path)
    assert result.returncode == 0, result.stderr
    assert "test is successful" in result.stderr


def test_nginx_t_here_would_catch_a_mistake(tmp_path):
    # The check above means something: the same copy with one wrong value fails.
    nginx = nginx_binary()
    config = checkable_copy(nginx_config(), tmp_path, nginx)
    server = one(one(config, "http").block, "server")
    server.block.append(Directive("proxy_read_timeout", ["75 seconds"]))
    result = nginx_test(nginx, config, tmp_path)
    assert result.returncode != 0
    assert "proxy_read_timeout" in result.stderr
