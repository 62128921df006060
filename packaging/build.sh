#!/usr/bin/env bash
# Build Nowserving for installation on office PCs.
#   bash packaging/build.sh            # the wheel: dist/nowserving-<version>-py3-none-any.whl
#   bash packaging/build.sh --bundle   # also dist/nowserving/, a self-contained PyInstaller
#                                      # folder (Python, Qt and every dependency inside)
# Uses .venv/bin/python when it exists (scripts/bootstrap.sh makes it), else python3;
# PYTHON=/path/to/python overrides. Building the wheel needs only pip. The bundle needs
# the project's [gui] dependencies in that Python; PyInstaller is installed into it.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

bundle=0
for arg in "$@"; do
  case "$arg" in
    --bundle) bundle=1 ;;
    -h | --help)
      sed -n '2,8p' "$0"
      exit 0
      ;;
    *)
      echo "build: unknown argument: $arg (only --bundle)" >&2
      exit 2
      ;;
  esac
done

if [ -n "${PYTHON:-}" ]; then
  python=$PYTHON
elif [ -x .venv/bin/python ]; then
  python=.venv/bin/python
else
  python=python3
fi
version=$("$python" -c 'import re, sys; print(re.search(r"__version__ = \"(.+)\"", open("nowserving/__init__.py").read())[1])')
echo "build: Nowserving $version with $("$python" --version) ($python)"

# --- The wheel -------------------------------------------------------------------------
# setuptools stages files in build/; a stale build/lib can slip deleted modules into the
# wheel, so start from an empty one.
rm -rf build/lib build/bdist.* dist/nowserving-"$version"-*.whl
mkdir -p dist
"$python" -m pip wheel --no-deps --quiet -w dist .
wheel=$(ls dist/nowserving-"$version"-*.whl)

# The apps cannot start without resources/ (translations, icons, web pages, the sample).
problems=0
if ! "$python" - "$wheel" <<'PY'; then
import sys
import zipfile

names = set(zipfile.ZipFile(sys.argv[1]).namelist())
wanted = ["nowserving/resources/offices/sample.toml", "nowserving/resources/i18n/en.json",
          "nowserving/resources/web/templates/ticket.html", "nowserving/resources/icons/generic.svg"]
missing = [name for name in wanted if name not in names]
if missing:
    print(f"build: ERROR: {sys.argv[1]} lacks the resources folder ({', '.join(missing)}):",
          "kiosk, display, desk, hub and `nowserving init` fail when installed from it.",
          "pyproject.toml must map resources/ to the package nowserving.resources.",
          sep="\n  ", file=sys.stderr)
    sys.exit(1)
PY
  problems=1
fi
echo "build: wheel  $wheel ($(du -h "$wheel" | cut -f1))"

# --- The PyInstaller bundle (only with --bundle) -----------------------------------------
if [ "$bundle" -eq 1 ]; then
  if ! "$python" -c 'import PySide6, escpos, nowserving' 2>/dev/null; then
    echo "build: $python lacks the [gui] dependencies; run: bash scripts/bootstrap.sh" >&2
    exit 1
  fi
  "$python" -m pip install --quiet -c constraints.txt "pyinstaller>=6.10"

  # Qt modules the apps never import: leaving them out keeps the folder small.
  # (Used: QtCore, QtGui, QtWidgets, QtSvg, QtMultimedia, QtTextToSpeech.)
  excludes=()
  for module in Qt3DAnimation Qt3DCore Qt3DExtras Qt3DInput Qt3DLogic Qt3DRender \
    QtBluetooth QtCanvasPainter QtCharts QtConcurrent QtDataVisualization QtDesigner \
    QtGraphs QtGraphsWidgets QtHelp QtHttpServer QtLocation QtMultimediaWidgets \
    QtNetworkAuth QtNfc QtOpenGLWidgets QtPdf QtPdfWidgets QtPositioning QtPrintSupport \
    QtQml QtQuick QtQuick3D QtQuickControls2 QtQuickTest QtQuickWidgets QtRemoteObjects \
    QtScxml QtSensors QtSerialBus QtSerialPort QtSpatialAudio QtSql QtStateMachine \
    QtSvgWidgets QtTest QtUiTools QtWebChannel QtWebEngineCore QtWebEngineQuick \
    QtWebEngineWidgets QtWebSockets QtWebView QtXml; do
    excludes+=(--exclude-module "PySide6.$module")
  done

  work=build/pyinstaller
  rm -rf "$work" && mkdir -p "$work"
  # The command line imports each app only when it starts (importlib), so name them.
  printf 'from nowserving.cli.main import main\n\nraise SystemExit(main())\n' >"$work/run_nowserving.py"
  rm -rf dist/nowserving
  "$python" -m PyInstaller --noconfirm --clean --log-level WARN --onedir --name nowserving \
    --distpath dist --workpath "$work" --specpath "$work" --paths "$root" \
    --collect-submodules nowserving --collect-submodules nowserving_qt \
    --collect-submodules kiosk --collect-submodules display --collect-submodules desk \
    --collect-submodules uvicorn --collect-data escpos --collect-data tzdata \
    --add-data "$root/resources:nowserving/resources" \
    --exclude-module tkinter "${excludes[@]}" \
    "$work/run_nowserving.py"

  # Smoke test: it starts, finds its resources and validates the sample office.
  QT_QPA_PLATFORM=offscreen dist/nowserving/nowserving --version
  dist/nowserving/nowserving check-config resources/offices/sample.toml >/dev/null
  QT_QPA_PLATFORM=offscreen dist/nowserving/nowserving --data "$work/smoke-data" \
    kiosk --config resources/offices/sample.toml --windowed --exit-after 1
  echo "build: bundle dist/nowserving/ ($(du -sh dist/nowserving | cut -f1));" \
    "run dist/nowserving/nowserving"
fi

if [ "$problems" -ne 0 ]; then
  echo "build: the wheel is NOT usable as built (see the error above)." >&2
  exit 1
fi
