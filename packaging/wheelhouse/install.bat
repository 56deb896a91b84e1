@echo off
rem Offline install of Plate Inspector from this folder (a wheelhouse): no internet needed.
rem   install.bat [VENV]      (default VENV: %USERPROFILE%\plate-inspector-venv; needs Python >= 3.11)
setlocal
set "HERE=%~dp0"
set "VENV=%~1"
if "%VENV%"=="" set "VENV=%USERPROFILE%\plate-inspector-venv"
py -3 -c "import sys; sys.exit(sys.version_info < (3, 11))" || (
  echo install.bat: Plate Inspector needs Python 3.11 or newer ^(py -3 was older or missing^). 1>&2
  exit /b 1
)
echo [install] creating %VENV%
py -3 -m venv "%VENV%" || exit /b 1
echo [install] installing plate-inspector from %HERE% (offline)
"%VENV%\Scripts\python.exe" -m pip install --no-index --find-links "%HERE%." plate-inspector || exit /b 1
echo [install] done: start it with "%VENV%\Scripts\inspector.exe"
