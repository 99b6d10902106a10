# Sourced by scripts/test: make sure Debian's Chromium is there for the browser tests
# (tests/web). Usage: ensure_chromium   (does nothing when /usr/bin/chromium exists)
ensure_chromium() {
  local chromium="${AIGW_CHROMIUM:-/usr/bin/chromium}"
  if [ -x "$chromium" ]; then
    return 0
  fi
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "Chromium is missing at $chromium and there is no apt-get: install Chromium and set" >&2
    echo "AIGW_CHROMIUM=/path/to/chromium (the browser tests skip without it, fail with CI=true)" >&2
    return 0
  fi
  if [ "$(id -u)" -ne 0 ]; then
    echo "Chromium is missing at $chromium. Install it once with:" >&2
    echo "  sudo apt-get update && sudo apt-get install -y chromium" >&2
    echo "(the browser tests skip without it, and fail with CI=true)" >&2
    return 0
  fi
  echo "Installing Debian's chromium for the browser tests (one time)..." >&2
  if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium \
      >/dev/null; }; then
    echo "apt-get could not install chromium; the browser tests will skip (fail with CI=true)" >&2
  fi
}
