//! This machine's MPI costs, the inputs of docs/scaling.md: ping-pong latency and bandwidth
//! between ranks 0 and 1, and the time of the collectives one biospike step makes
//! (`MPI_Allgather` of one count, `MPI_Allgatherv` of the spike ids, the status
//! `MPI_Allgather`) for spike lists of several sizes.
//!
//! ```sh
//! mpirun -np 2 --bind-to none target/release/examples/mpi_costs
//! ```

use mpi::datatype::PartitionMut;
use mpi::traits::*;
use std::time::Instant;

fn main() {
    let Ok(mpi) = biospike_mpi::initialize() else {
        eprintln!("MPI could not start");
        return;
    };
    let world = mpi::topology::SimpleCommunicator::world();
    let (rank, size) = (world.rank(), world.size());
    if size < 2 {
        eprintln!("run with mpirun -np 2 (or more)");
        return;
    }
    let _ = mpi.ranks();
    // Ping-pong between 0 and 1: half the round trip.
    if rank == 0 {
        println!("ping-pong (rank 0 <-> 1), one-way time per message:");
        println!("{:>12} {:>12} {:>14}", "bytes", "time (us)", "bandwidth MB/s");
    }
    for bytes in [8usize, 64, 512, 4096, 32_768, 262_144, 2_097_152, 16_777_216] {
        let mut buf = vec![0u8; bytes];
        let reps = (20_000_000 / bytes.max(1000)).clamp(10, 10_000);
        world.barrier();
        let t = Instant::now();
        for _ in 0..reps {
            if rank == 0 {
                world.process_at_rank(1).send(&buf[..]);
                world.process_at_rank(1).receive_into(&mut buf[..]);
            } else if rank == 1 {
                world.process_at_rank(0).receive_into(&mut buf[..]);
                world.process_at_rank(0).send(&buf[..]);
            }
        }
        let one_way = t.elapsed().as_secs_f64() / reps as f64 / 2.0;
        if rank == 0 {
            println!("{bytes:>12} {:>12.2} {:>14.1}", one_way * 1e6, bytes as f64 / one_way / 1e6);
        }
    }
    // One step's collectives with `per_rank` spikes on each rank.
    if rank == 0 {
        println!("\none step's exchange on {size} ranks (count Allgather + ids Allgatherv + status Allgather):");
        println!("{:>16} {:>12}", "spikes per rank", "time (us)");
    }
    for per_rank in [0usize, 10, 100, 1000, 10_000, 100_000] {
        let ids: Vec<u32> = (0..per_rank as u32).collect();
        let mut all = vec![0u32; per_rank * size as usize];
        let mut counts = vec![0 as mpi::Count; size as usize];
        let status = [0u64; 6];
        let mut statuses = vec![0u64; 6 * size as usize];
        let reps = (2_000_000 / (per_rank * size as usize).max(1000)).clamp(20, 20_000);
        world.barrier();
        let t = Instant::now();
        for _ in 0..reps {
            world.all_gather_into(&(ids.len() as mpi::Count), &mut counts[..]);
            let displs: Vec<mpi::Count> = counts.iter().scan(0, |a, &c| Some(std::mem::replace(a, *a + c))).collect();
            {
                let mut into = PartitionMut::new(&mut all[..], &counts[..], &displs[..]);
                world.all_gather_varcount_into(&ids[..], &mut into);
            }
            world.all_gather_into(&status[..], &mut statuses[..]);
        }
        let per_step = t.elapsed().as_secs_f64() / reps as f64;
        if rank == 0 {
            println!("{per_rank:>16} {:>12.2}", per_step * 1e6);
        }
    }
}
