# Sourced by the benchmarks: three keys (alice, bob, staging) and a bare
# repository of N commits with one tag of 3 signed layers each (v0.I.0,
# signed by alice, then bob, then staging), written by
# examples/many_tags.rs with sigtag's own signing code, exactly what
# `git tag -s` then `git tag -s -f NAME NAME` twice would write. A sample
# is checked with `git verify-tag` and the repository with
# `git fsck --strict` before anything is timed.
#
# Needs: $TMP (an empty temporary directory), $W="$TMP/work" and
# $R="$TMP/repo.git" (set here when unset), $MANY (the many_tags binary),
# GNUPGHOME set, and log(). Leaves $W/{alice,bob,staging}.{sec,pub}.

many_tags_repo() { # N
  local N="$1"
  W="${W:-$TMP/work}"
  R="${R:-$TMP/repo.git}"
  mkdir -p "$W"
  # --- three keys, made 30 days ago so they predate every signature ----------
  PAST="$(($(date +%s) - 30 * 86400))"
  for who in alice bob staging; do
    gpg --batch --quiet --pinentry-mode loopback --passphrase '' --faked-system-time "$PAST!" \
      --quick-gen-key "$who <$who@example.org>" ed25519 sign 2y 2>/dev/null
    fpr="$(gpg --batch --with-colons --list-keys "$who@example.org" 2>/dev/null | awk -F: '$1 == "fpr" { print $10; exit }')"
    gpg --batch --quiet --pinentry-mode loopback --passphrase '' --armor --export-secret-keys "$fpr" >"$W/$who.sec"
    gpg --batch --quiet --armor --export "$fpr" >"$W/$who.pub"
  done

  # --- N commits, one fast-import stream ---------------------------------------
  log "building $R: $N commits, $N tags of 3 layers"
  git init -q --bare -b main "$R"
  awk -v n="$N" -v t0="$PAST" 'BEGIN {
    for (i = 1; i <= n; i++) {
      msg = "commit " i "\n"; body = i "\n"
      printf "commit refs/heads/main\nmark :%d\n", i
      printf "committer Alice <alice@example.org> %d +0000\n", t0 + 60 * i
      printf "data %d\n%s", length(msg), msg
      printf "M 644 inline counter\ndata %d\n%s\n", length(body), body
    }
  }' | git -C "$R" fast-import --quiet --date-format=raw --export-marks="$W/marks"

  t0="$(date +%s.%N)"
  "$MANY" "$R" "$W/marks" "$W/alice.sec" "$W/bob.sec" "$W/staging.sec" >"$W/refs"
  git -C "$R" update-ref --stdin <"$W/refs"
  git -C "$R" repack -a -d -q
  git -C "$R" prune
  git -C "$R" pack-refs --all # as a served repository's refs usually are
  log "tags written and packed in $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') s"
  [ "$(git -C "$R" tag | wc -l)" -eq "$N" ] || { echo "bench: expected $N tags" >&2; exit 2; }
  git -C "$R" fsck --strict --no-progress >/dev/null
  for i in 1 "$(((N + 1) / 2))" "$N"; do
    git -C "$R" verify-tag "v0.$i.0" >/dev/null 2>&1 ||
      { echo "bench: git verify-tag rejects v0.$i.0" >&2; exit 2; }
  done
}
