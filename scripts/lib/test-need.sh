#!/usr/bin/env bash
# Tests scripts/lib/need.sh without installing anything: every helper runs against a fake PATH of
# stub commands (apt-get, dpkg-query, sudo, id, rustup, cargo) that record their arguments and
# simulate installs, then the recorded calls and the exit status are checked, for the paths:
# nothing to install, install (as root and through sudo), one apt-get update for several
# installs, install failures (status 1 and "need: FAILED"), and NEED_DRY_RUN (prints, runs nothing).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
fails=0
checks=0

mkdir -p "$tmp/bin"
for tool in bash env grep cat sed mkdir touch rm chmod tr dirname; do
    ln -s "$(command -v "$tool")" "$tmp/bin/$tool"
done
# Every stub appends "NAME ARGS" to $LOG; FAIL names the stub invocation to fail ("apt-get install").
stub() { # stub NAME BODY
    printf '#!/bin/bash\necho "%s $*" >>"$LOG"\n%s\n' "$1" "$2" >"$tmp/bin/$1"
    chmod +x "$tmp/bin/$1"
}
stub id 'echo "${FAKE_UID:-0}"'
stub sudo '"$@"'
stub dpkg-query 'for p in $FAKE_DEBS; do [ "$p" = "${@: -1}" ] && { echo "install ok installed"; exit 0; }; done; exit 1'
stub apt-get '[ "${FAIL:-}" = "apt-get $1" ] && exit 100
if [ "$1" = install ]; then for p in "$@"; do [ -n "$p" ] && [ "${p#-}" = "$p" ] && [ "$p" != install ] &&
    printf "#!/bin/bash\nexit 0\n" >"$FAKEBIN/$p" && chmod +x "$FAKEBIN/$p"; done; fi; exit 0'
stub rustup 'case "$*" in
"toolchain list") for t in $FAKE_TOOLCHAINS; do echo "$t-x86_64-unknown-linux-gnu"; done ;;
"+nightly component list --installed") for c in $FAKE_COMPONENTS; do echo "$c"; done ;;
*"target list --installed") for t in $FAKE_TARGETS; do echo "$t"; done
    for ((i = 0; i < ${FAKE_PAD:-0}; i++)); do echo "padding-$i"; done ;;
*) [ "${FAIL:-}" = "rustup $1" ] && exit 1 ;;
esac; exit 0'
stub cargo 'case "$*" in
"install --list") printf "%b" "${FAKE_CRATES:-}"
    for ((i = 0; i < ${FAKE_PAD:-0}; i++)); do echo "padding-$i v1.0.0:"; done ;;
*install*) [ "${FAIL:-}" = "cargo install" ] && exit 101
    [ "$1" = install ] || shift
    printf "#!/bin/bash\n" >"$FAKEBIN/${FAKE_BIN:-$2}"; chmod +x "$FAKEBIN/${FAKE_BIN:-$2}" ;;
esac; exit 0'

# check NAME WANT_STATUS WANT_LOG SNIPPET [VAR=VALUE...]: runs SNIPPET after sourcing need.sh in a
# clean environment over the fake PATH, and compares the status and the recorded calls.
check() {
    local name="$1" want_status="$2" want_log="$3" snippet="$4"
    shift 4
    : >"$tmp/log"
    rm -f "$tmp/bin/qemu-x86_64" "$tmp/bin/valgrind" "$tmp/bin/cargo-fuzz"
    local status=0
    env -i PATH="$tmp/bin" LOG="$tmp/log" FAKEBIN="$tmp/bin" "$@" \
        bash -c "set -euo pipefail; source '$here/need.sh'; $snippet" >"$tmp/out" 2>&1 || status=$?
    local got
    got="$(grep -v -e '^id ' -e '^dpkg-query ' -e '^rustup toolchain list' -e 'component list' \
        -e 'target list' -e '^cargo install --list' -e '^cargo +nightly --version' "$tmp/log" || true)"
    checks=$((checks + 1))
    if [ "$status" != "$want_status" ] || [ "$got" != "$want_log" ]; then
        fails=$((fails + 1))
        echo "FAIL: $name: status $status (want $want_status)"
        echo "  calls:  ${got//$'\n'/ | }"
        echo "  wanted: ${want_log//$'\n'/ | }"
        sed 's/^/  out: /' "$tmp/out"
    else
        echo "ok: $name"
    fi
    if [ "$want_status" != 0 ] && ! grep -q '^need: FAILED' "$tmp/out"; then
        fails=$((fails + 1))
        echo "FAIL: $name: no 'need: FAILED' message"
    fi
}

upd='apt-get update -qq'
inst='apt-get install -y -qq --no-install-recommends'
check "apt_install: already installed" 0 "" 'apt_install valgrind' FAKE_DEBS=valgrind
check "apt_install: as root, one update for two installs" 0 "$upd
$inst valgrind
$inst qemu-user" 'apt_install valgrind; apt_install qemu-user'
check "apt_install: through sudo" 0 "sudo env DEBIAN_FRONTEND=noninteractive $upd
$upd
sudo env DEBIAN_FRONTEND=noninteractive $inst valgrind
$inst valgrind" 'apt_install valgrind' FAKE_UID=1000
check "apt_install: update fails" 1 "$upd" 'apt_install valgrind' FAIL="apt-get update"
check "apt_install: install fails" 1 "$upd
$inst valgrind" 'apt_install valgrind' FAIL="apt-get install"
check "apt_install: only the missing packages" 0 "$upd
$inst gcc-aarch64-linux-gnu" 'apt_install qemu-user gcc-aarch64-linux-gnu' FAKE_DEBS=qemu-user
check "apt_install: update already done by the calling script" 0 "$inst valgrind" 'apt_install valgrind' \
    NEED_APT_UPDATED=1
check "need_cmd: present" 0 "" 'touch "$FAKEBIN/valgrind"; chmod +x "$FAKEBIN/valgrind"; need_cmd valgrind valgrind'
check "need_cmd: installed, then found" 0 "$upd
$inst valgrind" 'need_cmd valgrind valgrind; command -v valgrind >/dev/null'
check "need_cmd: package installed but no command" 1 "" 'need_cmd qemu-x86_64 qemu-user' FAKE_DEBS=qemu-user
check "need_nightly: present with its components" 0 "" 'need_nightly miri rust-src' \
    FAKE_TOOLCHAINS="stable nightly" FAKE_COMPONENTS="miri-x86_64-unknown-linux-gnu rust-src"
check "need_nightly: missing component" 0 "rustup component add --toolchain nightly miri" \
    'need_nightly miri rust-src' FAKE_TOOLCHAINS="stable nightly" FAKE_COMPONENTS="rust-src"
check "need_nightly: no nightly" 0 \
    "rustup toolchain install nightly --profile minimal --component miri --component rust-src" \
    'need_nightly miri rust-src' FAKE_TOOLCHAINS=stable
check "need_nightly: install fails" 1 "rustup toolchain install nightly --profile minimal" 'need_nightly' \
    FAKE_TOOLCHAINS=stable FAIL="rustup toolchain"
check "need_target: present" 0 "" 'need_target aarch64-unknown-linux-gnu' FAKE_TARGETS=aarch64-unknown-linux-gnu
check "need_target: missing" 0 "rustup target add wasm32-unknown-unknown" 'need_target wasm32-unknown-unknown'
check "need_target: add fails" 1 "rustup target add wasm32-unknown-unknown" 'need_target wasm32-unknown-unknown' \
    FAIL="rustup target"
check "need_cargo_install: pinned version present" 0 "" 'need_cargo_install iai-callgrind-runner 0.16.1' \
    FAKE_CRATES='iai-callgrind-runner v0.16.1:\n    iai-callgrind-runner\n'
# A listing longer than a pipe buffer, the match first: a lister piped into `grep -q` would die of
# SIGPIPE when grep stops early, and under pipefail that reads as "not installed".
check "need_cargo_install: pinned version first in a long listing" 0 "" \
    'need_cargo_install iai-callgrind-runner 0.16.1' FAKE_CRATES='iai-callgrind-runner v0.16.1:\n' FAKE_PAD=20000
check "need_target: present first in a long listing" 0 "" 'need_target aarch64-unknown-linux-gnu' \
    FAKE_TARGETS=aarch64-unknown-linux-gnu FAKE_PAD=20000
check "need_cargo_install: other version installed" 0 "cargo install iai-callgrind-runner --version 0.16.1 --locked" \
    'need_cargo_install iai-callgrind-runner 0.16.1' FAKE_CRATES='iai-callgrind-runner v0.16.10:\n'
check "need_cargo_install: with a toolchain" 0 "cargo +nightly install cargo-fuzz --version 0.13.2 --locked" \
    'need_cargo_install cargo-fuzz 0.13.2 cargo-fuzz nightly'
check "need_cargo_install: fails" 1 "cargo install cargo-fuzz --version 0.13.2 --locked" \
    'need_cargo_install cargo-fuzz 0.13.2' FAIL="cargo install"
check "need_cargo_install: binary not on PATH" 1 "cargo install cargo-fuzz --version 0.13.2 --locked" \
    'need_cargo_install cargo-fuzz 0.13.2' FAKE_BIN=elsewhere
check "dry run: nothing runs" 0 "" 'apt_install valgrind; need_cmd qemu-x86_64 qemu-user; need_nightly miri;
    need_target wasm32-unknown-unknown; need_cargo_install cargo-fuzz 0.13.2' \
    NEED_DRY_RUN=1 FAKE_TOOLCHAINS=stable
if ! env -i PATH="$tmp/bin" LOG="$tmp/log" FAKEBIN="$tmp/bin" NEED_DRY_RUN=1 FAKE_TOOLCHAINS=stable \
    bash -c "source '$here/need.sh'; apt_install valgrind; need_nightly miri; need_cargo_install cargo-fuzz 0.13.2" 2>&1 |
    grep -c 'would run' | grep -qx 4; then
    fails=$((fails + 1))
    echo "FAIL: dry run: expected 4 'would run' lines (update, install, toolchain, cargo install)"
fi
checks=$((checks + 1))

# Each script's install steps, on a machine that has none of its tools: NEED_DRY_RUN lists the
# installs, NEED_CHECK_ONLY stops the script after them. Every tool is installed or the script
# fails; none is skipped.
root="$(cd "$here/../.." && pwd)"
script_check() { # script_check SCRIPT WANT_INSTALLS [VAR=VALUE...]
    local script="$1" want="$2" status=0
    shift 2
    : >"$tmp/log"
    env -i PATH="$tmp/bin" LOG="$tmp/log" FAKEBIN="$tmp/bin" NEED_DRY_RUN=1 NEED_CHECK_ONLY=1 \
        FAKE_TOOLCHAINS=stable "$@" bash "$root/$script" >"$tmp/out" 2>&1 || status=$?
    local got
    got="$(sed -n 's/^need: would run: //p' "$tmp/out")"
    checks=$((checks + 1))
    if [ "$status" != 0 ] || [ "$got" != "$want" ] || ! grep -qx 'need: ready' "$tmp/out"; then
        fails=$((fails + 1))
        echo "FAIL: $script: status $status"
        echo "  installs: ${got//$'\n'/ | }"
        echo "  wanted:   ${want//$'\n'/ | }"
        sed 's/^/  out: /' "$tmp/out"
    else
        echo "ok: $script installs what it needs"
    fi
}
upd="env DEBIAN_FRONTEND=noninteractive $upd"
inst="env DEBIAN_FRONTEND=noninteractive $inst"
nightly="rustup toolchain install nightly --profile minimal"
script_check scripts/miri.sh "$nightly --component miri --component rust-src"
script_check scripts/asan.sh "$nightly"
script_check scripts/fuzz.sh "$nightly
$upd
$inst g++
cargo install cargo-fuzz --version 0.13.2 --locked"
script_check scripts/ci/bench-smoke.sh "$upd
$inst valgrind
$inst python3
$inst binutils
cargo install iai-callgrind-runner --version $(sed -n '/^name = "iai-callgrind"$/{n;s/^version = "\(.*\)"$/\1/p}' "$root/Cargo.lock") --locked"
script_check scripts/ci/detect.sh "$upd
$inst qemu-user"
script_check scripts/ci/neon.sh "$upd
$inst qemu-user
$inst gcc-aarch64-linux-gnu
$inst libc6-dev-arm64-cross
rustup target add aarch64-unknown-linux-gnu"
script_check scripts/ci/targets.sh "rustup target add wasm32-unknown-unknown
rustup target add riscv64gc-unknown-linux-gnu"
# With everything present, nothing is installed.
touch "$tmp/bin/qemu-x86_64" && chmod +x "$tmp/bin/qemu-x86_64"
script_check scripts/ci/detect.sh ""
rm -f "$tmp/bin/qemu-x86_64"
script_check scripts/miri.sh "" FAKE_TOOLCHAINS="stable nightly" FAKE_COMPONENTS="miri-x86_64-unknown-linux-gnu rust-src"
# No script skips a check by exiting early when a tool is missing.
for s in scripts/miri.sh scripts/asan.sh scripts/fuzz.sh scripts/check-all.sh scripts/ci/*.sh; do
    checks=$((checks + 1))
    if grep -n -i -E 'skip(ped|ping)?[^_a-z-].*(install|nightly|valgrind|qemu)|(install|nightly|valgrind|qemu).*skip(ped|ping)' \
        "$root/$s" | grep -v -e '--skip' -e '^[0-9]*: *#'; then
        fails=$((fails + 1))
        echo "FAIL: $s mentions skipping a missing tool"
    fi
done
echo "test-need.sh: $((checks - fails)) passed, $fails failed"
[ "$fails" -eq 0 ]
