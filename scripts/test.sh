#!/usr/bin/env bash
# The test command: install, check that the notebooks and the library agree, run every notebook's tests and the
# repository tests. `.ci/run` calls exactly this; arguments pass on to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
# The tests read IMDB from $RLHF_IMDB_DATA: the copy beside the repository when there is one and the variable is unset.
if [ -z "${RLHF_IMDB_DATA:-}" ] && [ -f ../shared/data/imdb/train.parquet ]; then
  RLHF_IMDB_DATA="$(cd ../shared/data/imdb && pwd)/train.parquet"
  export RLHF_IMDB_DATA
fi
bash scripts/install.sh
echo "== nbdev_export must change nothing"
nbdev_export
if ! git diff --quiet -- rlhf_imdb || [ -n "$(git status --porcelain -- rlhf_imdb)" ]; then
  git status --short -- rlhf_imdb
  git diff --stat -- rlhf_imdb
  echo "FAIL: nbdev_export changed rlhf_imdb/: export the notebooks and commit"
  exit 1
fi
echo "== pytest (notebook tests via nbdev_test, package, docs, workflows)"
python3 -m pytest tests "$@"
