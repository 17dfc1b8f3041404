# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0
#
# What the Open MPI tests share (tests/mpi/test_mpi.sh on the host,
# tests/vm/mpi-guest.sh in a guest): the dataset, a scratch directory,
# TAP lines, the weights checksum of a run's output, the tools they need.
# Sourced; the caller sets mpi and one (fewmulctl-mpi and fewmulctl).
# Shared memory and no remote launcher.
# shellcheck disable=SC2034,SC2154
n=0
failed=0
data=${FEWMUL_DATA:-/usr/share/datasets/fashion-mnist}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/fewmul-mpi.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
export OMPI_MCA_btl=self,vader OMPI_MCA_plm_rsh_agent=false

ok() {	# ok <name> <rc>
	n=$((n + 1))
	if [ "$2" -eq 0 ]; then echo "ok $n - $1"; else echo "not ok $n - $1"; failed=1; fi
}

sum_of() { sed -n 's/^weights checksum //p' "$1" | tail -1; }

for x in "$mpi" "$one"; do
	[ -x "$x" ] || { echo "not ok 1 - $x missing"; echo "1..1"; exit 1; }
done
command -v mpirun >/dev/null || { echo "not ok 1 - mpirun missing (make deps)"; echo "1..1"; exit 1; }
