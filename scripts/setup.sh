#!/usr/bin/env bash
# Makes this machine ready to build and run Runable: installs the Debian packages that are missing, then
# builds the solution. Idempotent and silent when everything is already there.
#
#   scripts/setup.sh [--no-build]
#
#   RUNABLE_SETUP_MINIMAL=1   install only what the box needs today (bash, setsid)
#   RUNABLE_SETUP_SKIP_APT=1  install no packages (the build still runs)
#
# Called by ./run and ./test; safe to source (it then defines its functions without running them).
set -euo pipefail

RUNABLE_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

# What the box server needs: bash for shell sessions, util-linux for setsid (new process groups), and the
# everyday tools of a sandbox (curl and git, which go out through the egress proxy).
RUNABLE_PACKAGES_BOX=(bash util-linux curl git ca-certificates)
# Sandbox isolation: bubblewrap namespaces and seccomp filters.
RUNABLE_PACKAGES_ISOLATION=(bubblewrap libseccomp2)
# The virtual desktop: X server, input, screenshots (xwd), VNC with its browser client, a window manager.
RUNABLE_PACKAGES_DESKTOP=(xvfb xdotool x11vnc novnc websockify x11-apps x11-utils xterm openbox)
# Stateful code: Python with Jupyter kernels and servers.
RUNABLE_PACKAGES_CODE=(python3 python3-ipykernel python3-matplotlib jupyter-server python3-notebook)
# Browser automation and the shared store.
RUNABLE_PACKAGES_BROWSER=(chromium)
RUNABLE_PACKAGES_DATABASE=(postgresql)
# Ahead-of-time compilation of the box that runs inside sandboxes (starts in milliseconds, no runtime needed).
RUNABLE_PACKAGES_AOT=(clang zlib1g-dev)

runable_log() {
    printf 'setup: %s\n' "$*" >&2
}

# Prints the packages of the wanted groups that dpkg does not know as installed.
runable_missing_packages() {
    local wanted=("${RUNABLE_PACKAGES_BOX[@]}")
    if [[ "${RUNABLE_SETUP_MINIMAL:-0}" != 1 ]]; then
        wanted+=("${RUNABLE_PACKAGES_ISOLATION[@]}" "${RUNABLE_PACKAGES_DESKTOP[@]}" "${RUNABLE_PACKAGES_CODE[@]}"
            "${RUNABLE_PACKAGES_BROWSER[@]}" "${RUNABLE_PACKAGES_DATABASE[@]}" "${RUNABLE_PACKAGES_AOT[@]}")
        # Node may come from NodeSource (which bundles npm and conflicts with Debian's npm): ask for the
        # Debian packages only when there is no node at all.
        if ! command -v node >/dev/null 2>&1; then
            wanted+=(nodejs npm)
        fi
    fi
    local package
    for package in "${wanted[@]}"; do
        if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed'; then
            printf '%s\n' "$package"
        fi
    done
}

runable_install_packages() {
    if [[ "${RUNABLE_SETUP_SKIP_APT:-0}" == 1 ]]; then
        return 0
    fi
    if ! command -v dpkg-query >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then
        runable_log "not a Debian-based system: install bash, util-linux (setsid) and bubblewrap yourself, then set RUNABLE_SETUP_SKIP_APT=1"
        return 0
    fi

    local missing=()
    mapfile -t missing < <(runable_missing_packages)
    if [[ ${#missing[@]} -eq 0 ]]; then
        return 0
    fi

    local sudo=()
    if [[ "$(id -u)" != 0 ]]; then
        if command -v sudo >/dev/null 2>&1; then
            sudo=(sudo)
        else
            runable_log "missing packages and not root; run as root:"
            runable_log "  apt-get update && apt-get install -y --no-install-recommends ${missing[*]}"
            return 1
        fi
    fi

    mkdir -p "$RUNABLE_ROOT/.runable"
    local log="$RUNABLE_ROOT/.runable/setup.log"
    runable_log "installing ${missing[*]} (log: .runable/setup.log; RUNABLE_SETUP_MINIMAL=1 installs only what the box needs)"
    if ! { "${sudo[@]}" apt-get update -qq &&
        DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"; } \
        >"$log" 2>&1; then
        tail -n 20 "$log" >&2
        runable_log "apt-get failed; see .runable/setup.log"
        return 1
    fi
}

runable_build() {
    if ! command -v dotnet >/dev/null 2>&1; then
        runable_log "the .NET 10 SDK is missing: install it (https://dot.net/download), then run this again"
        return 1
    fi
    local output
    if ! output="$(cd "$RUNABLE_ROOT" && dotnet build Runable.slnx -c Release -v q -nologo 2>&1)"; then
        printf '%s\n' "$output" >&2
        runable_log "build failed"
        return 1
    fi
}

# Publishes runable-box compiled ahead of time to artifacts/publish/runable-box: sandboxes run it as
# their box server. Incremental after the first time (seconds). Skipped without clang; sandboxes then run the
# JIT build, which starts slower.
runable_publish_box() {
    if ! command -v clang >/dev/null 2>&1; then
        return 0
    fi
    local out="$RUNABLE_ROOT/artifacts/publish/runable-box"
    if [[ -x "$out/runable-box" ]] && [[ -z "$(find "$RUNABLE_ROOT/src" "$RUNABLE_ROOT/Directory.Build.props" \
        "$RUNABLE_ROOT/Directory.Packages.props" -newer "$out/runable-box" -print -quit 2>/dev/null)" ]]; then
        return 0
    fi
    runable_log "compiling the sandbox's box server ahead of time (a minute or two after each change under src/)"
    local output
    # The framework's OpenAPI pieces carry trim warnings that do not apply to the box's routes; the sandbox
    # tests run against this very binary.
    if ! output="$(cd "$RUNABLE_ROOT" && dotnet publish src/Runable.Box.Host/Runable.Box.Host.csproj -c Release -r linux-x64 \
        -p:PublishAot=true -p:TreatWarningsAsErrors=false -o "$out" -v q -nologo 2>&1)"; then
        printf '%s\n' "$output" >&2
        runable_log "ahead-of-time publish failed; sandboxes fall back to the JIT build"
        rm -rf "$out"
    fi
}

# The TypeScript kernel: npm's tslab with Node's type definitions, installed globally (under /usr, which
# sandboxes see read-only). Pinned; quiet and skipped when already there.
RUNABLE_NPM_TSLAB=(tslab@1.0.22 @types/node@20.19.43)
runable_install_node_tools() {
    if [[ "${RUNABLE_SETUP_MINIMAL:-0}" == 1 ]] || ! command -v npm >/dev/null 2>&1; then
        return 0
    fi
    local root
    root="$(npm root -g 2>/dev/null)" || return 0
    if grep -q '"version": "1.0.22"' "$root/tslab/package.json" 2>/dev/null \
        && grep -q '"version": "20.19.43"' "$root/@types/node/package.json" 2>/dev/null; then
        return 0
    fi
    runable_log "installing the TypeScript kernel (npm: ${RUNABLE_NPM_TSLAB[*]})"
    npm install -g --no-audit --no-fund --loglevel=error "${RUNABLE_NPM_TSLAB[@]}" >/dev/null \
        || runable_log "npm install of tslab failed; TypeScript code contexts will be unavailable"
}

# The web UI's browser packages (noVNC, xterm.js), pinned by src/Runable.Web/package-lock.json and embedded in the UI at
# build. Quiet, and skipped while node_modules matches the lock file.
runable_install_ui_packages() {
    local web="$RUNABLE_ROOT/src/Runable.Web"
    if [[ -f "$web/node_modules/.package-lock.json" && ! "$web/package-lock.json" -nt "$web/node_modules/.package-lock.json" ]]; then
        return 0
    fi
    if ! command -v npm >/dev/null 2>&1; then
        runable_log "npm is missing: the web UI's packages (noVNC, xterm.js) cannot be installed; install nodejs and npm, then run this again"
        return 1
    fi
    runable_log "installing the web UI's packages (npm ci in src/Runable.Web)"
    (cd "$web" && npm ci --no-audit --no-fund --loglevel=error >/dev/null) || { runable_log "npm ci in src/Runable.Web failed"; return 1; }
}

runable_setup() {
    local build=1
    local arg
    for arg in "$@"; do
        case "$arg" in
            --no-build) build=0 ;;
            *) runable_log "unknown argument: $arg (usage: scripts/setup.sh [--no-build])"; return 2 ;;
        esac
    done
    runable_install_packages
    runable_install_node_tools
    runable_install_ui_packages
    if [[ $build == 1 ]]; then
        runable_build
        runable_publish_box
    fi
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
    runable_setup "$@"
fi
