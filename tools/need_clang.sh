# Sourced by tools/fuzz.sh and tools/sanitize.sh: installs clang and its runtime libraries
# (libFuzzer, sanitizers) when missing. The normal build does not need them, so setup.sh does not
# install them; on a fresh Debian 12 machine (as root) this does.
need_clang() {
  local missing=() p
  for p in clang libclang-rt-14-dev; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if ((${#missing[@]})); then
    echo "installing ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
}
