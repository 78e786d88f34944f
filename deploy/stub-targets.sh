#!/bin/sh
# Creates an empty `fn main() {}` file at every target path Cargo.toml declares ([lib], [[bin]],
# [[bench]], [[test]], [[example]]), so that the image's dependency-caching stage can run
# `cargo build` with only Cargo.toml and Cargo.lock copied in: Cargo refuses a manifest whose
# declared targets are missing. Paths of dependencies (`[dependencies.x] path = ...`) are not
# targets and are skipped.
#
#   deploy/stub-targets.sh [Cargo.toml]     # run in the directory holding the manifest
set -eu
manifest=${1:-Cargo.toml}
section=
while IFS= read -r line || [ -n "$line" ]; do
    case $line in
    \[*) section=$(printf '%s' "$line" | tr -d ' \t') ;;
    path*=*)
        case $section in
        '[lib]' | '[[bin]]' | '[[bench]]' | '[[test]]' | '[[example]]')
            path=$(printf '%s' "$line" | sed -n 's/^path[ \t]*=[ \t]*"\([^"]*\)".*/\1/p')
            if [ -n "$path" ] && [ ! -e "$path" ]; then
                mkdir -p "$(dirname "$path")"
                echo 'fn main() {}' >"$path"
            fi
            ;;
        esac
        ;;
    esac
done <"$manifest"
