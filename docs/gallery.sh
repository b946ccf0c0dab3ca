#!/usr/bin/env bash
# Regenerates the figure gallery of docs/figures.md: every figure `biospike plot` draws for
# scenes/izhikevich_2003.ron (1 s), for the distal-reward experiment of Izhikevich (2007)
# (one simulated hour, with and without rewards; about a minute on 2 cores), and for Brunel
# (2000) as NEST ships it and in its asynchronous irregular state (1 s each, the raster of the
# last 100 ms).
#
#   docs/gallery.sh
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release
bin=target/release/biospike
runs=$(mktemp -d)
$bin run izhikevich_2003 --out "$runs/izhikevich_2003"
$bin run izhikevich_2007_distal_reward --out "$runs/reward" &
$bin run izhikevich_2007_distal_reward --no-rewards --out "$runs/control" &
wait
$bin run brunel_2000 --out "$runs/brunel_2000"
$bin run brunel_2000_ai --out "$runs/brunel_2000_ai"
rm -rf docs/figures
$bin plot "$runs/izhikevich_2003" --out docs/figures/izhikevich_2003
$bin plot "$runs/reward" --control "$runs/control" --out docs/figures/distal_reward
$bin plot "$runs/brunel_2000" --window-ms 900,1000 --out docs/figures/brunel_2000
$bin plot "$runs/brunel_2000_ai" --window-ms 900,1000 --out docs/figures/brunel_2000_ai
# The figures docs/distal_reward.md shows.
cp docs/figures/distal_reward/weight_trace.png docs/distal_reward_weight.png
cp docs/figures/distal_reward/weight_distribution.png docs/distal_reward_distribution.png
cp docs/figures/izhikevich_2003/raster.png docs/izhikevich_2003_raster.png
rm -rf "$runs"
