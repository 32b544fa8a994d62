# shellcheck shell=bash
# Installs what a script needs, or stops it loudly: no check is skipped because a tool is missing.
# Source it, then call the helpers:
#   apt_install PKG...            Debian packages not yet installed (one `apt-get update` first,
#                                 once for this script and the scripts it runs)
#   need_cmd CMD PKG...           CMD on PATH, else apt_install PKG... (then CMD must exist)
#   need_nightly [COMPONENT...]   the nightly toolchain ($NEED_NIGHTLY, default "nightly") with
#                                 the components (e.g. miri rust-src), through rustup
#   need_target TARGET [TOOLCHAIN]  a rustup target's standard library
#   need_cargo_install CRATE VERSION [BIN] [TOOLCHAIN]
#                                 `cargo install CRATE --version VERSION --locked` unless exactly
#                                 that version is installed (BIN defaults to CRATE)
#   need_ready                    ends the install steps (see NEED_CHECK_ONLY)
# Every failed install exits the script with "need: FAILED: ..." on stderr and status 1.
# NEED_DRY_RUN=1 prints each install command ("need: would run: ...") instead of running it, and
# skips the checks that the install worked; NEED_CHECK_ONLY=1 stops the script at need_ready,
# after its install steps. scripts/lib/test-need.sh tests the helpers, and each script's install
# steps, that way over a fake PATH.

# Listings are read whole and then searched (`grep <<<"$(cmd)"`), never piped into `grep -q`:
# under `set -o pipefail` the lister can die of SIGPIPE when grep exits at its first match, and
# the pipeline then reads as "not found" (an install that was not needed, at random).

need_fail() {
    echo "need: FAILED: $*" >&2
    exit 1
}

# need_run CMD...: runs an install command (or prints it under NEED_DRY_RUN).
need_run() {
    if [ -n "${NEED_DRY_RUN:-}" ]; then
        echo "need: would run: $*" >&2
        return 0
    fi
    echo "need: running: $*" >&2
    "$@"
}

# The prefix that runs a command as root: nothing when already root, else sudo.
_need_root() {
    if [ "$(id -u)" -eq 0 ]; then
        _need_as_root=()
    elif command -v sudo >/dev/null 2>&1; then
        _need_as_root=(sudo)
    else
        need_fail "installing $* needs root, and sudo is not installed"
    fi
}

apt_install() {
    local missing=() p
    for p in "$@"; do
        [[ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)" == *'install ok installed'* ]] ||
            missing+=("$p")
    done
    [ "${#missing[@]}" -eq 0 ] && return 0
    command -v apt-get >/dev/null 2>&1 || need_fail "apt-get is not available to install ${missing[*]}"
    _need_root "${missing[*]}"
    if [ -z "${NEED_APT_UPDATED:-}" ]; then
        need_run "${_need_as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq ||
            need_fail "apt-get update"
        export NEED_APT_UPDATED=1
    fi
    need_run "${_need_as_root[@]}" env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -qq --no-install-recommends "${missing[@]}" ||
        need_fail "apt-get install ${missing[*]}"
}

need_cmd() {
    local cmd="$1"
    shift
    command -v "$cmd" >/dev/null 2>&1 && return 0
    apt_install "$@"
    [ -n "${NEED_DRY_RUN:-}" ] || command -v "$cmd" >/dev/null 2>&1 ||
        need_fail "$cmd is still missing after installing $*"
}

need_rustup() {
    command -v rustup >/dev/null 2>&1 || need_fail "rustup is not installed (it manages the toolchains and targets)"
}

need_nightly() {
    local tc="${NEED_NIGHTLY:-nightly}" c missing=()
    need_rustup
    if ! grep -q "^$tc" <<<"$(rustup toolchain list)"; then
        local args=()
        for c in "$@"; do args+=(--component "$c"); done
        need_run rustup toolchain install "$tc" --profile minimal "${args[@]}" ||
            need_fail "rustup toolchain install $tc"
    else
        local installed
        installed="$(rustup "+$tc" component list --installed 2>/dev/null)" ||
            need_fail "rustup cannot list the components of $tc"
        for c in "$@"; do
            grep -q "^$c\(-\|\$\)" <<<"$installed" || missing+=("$c")
        done
        if [ "${#missing[@]}" -gt 0 ]; then
            need_run rustup component add --toolchain "$tc" "${missing[@]}" ||
                need_fail "rustup component add --toolchain $tc ${missing[*]}"
        fi
    fi
    [ -n "${NEED_DRY_RUN:-}" ] || cargo "+$tc" --version >/dev/null 2>&1 || need_fail "cargo +$tc does not run"
}

need_target() {
    local target="$1" tc="${2:-}"
    need_rustup
    local plus=()
    [ -n "$tc" ] && plus=("+$tc")
    grep -qx "$target" <<<"$(rustup "${plus[@]}" target list --installed)" && return 0
    need_run rustup "${plus[@]}" target add "$target" || need_fail "rustup target add $target"
}

need_cargo_install() {
    local crate="$1" version="$2" bin="${3:-$1}" tc="${4:-}"
    local plus=()
    [ -n "$tc" ] && plus=("+$tc")
    if grep -q "^$crate v${version//./\\.}:" <<<"$(cargo install --list 2>/dev/null || true)"; then
        return 0
    fi
    need_run cargo "${plus[@]}" install "$crate" --version "$version" --locked ||
        need_fail "cargo install $crate --version $version"
    [ -n "${NEED_DRY_RUN:-}" ] || command -v "$bin" >/dev/null 2>&1 ||
        need_fail "$bin is not on PATH after cargo install $crate (is ~/.cargo/bin on PATH?)"
}

need_ready() {
    if [ -n "${NEED_CHECK_ONLY:-}" ]; then
        echo "need: ready" >&2
        exit 0
    fi
}
