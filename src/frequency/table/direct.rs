//! Roll-ups into a small key space: each source class's target class found
//! by a direct index into an array of slots, instead of by hashing its
//! packed target key.
//!
//! The index is the target key in mixed radix over the attributes with more
//! than one value at the target. It is read from the packed source key in a
//! few table lookups: consecutive fields of the source key (at most
//! [`CHUNK_BITS`] bits) index a table holding their part of the index, the
//! lifts of all their attributes applied at once.

use std::cell::RefCell;

use super::{FREE, Layout};

/// The most slots (target keys) grouped by direct index: 4 bytes each, they
/// then stay in the core's second-level cache.
const DIRECT_SLOTS: u64 = 1 << 16;

/// Key spaces of at most this many keys are grouped by direct index whatever
/// the size of the source (the slots then fit in the first-level cache).
const SMALL_SPACE: u64 = 1 << 10;

/// Whether grouping `classes` source classes into a target key space of
/// `space` keys by direct index pays: when the space is small, or not much
/// larger than the source (more slots than source classes scatter the
/// classes over many cache lines, where a hash table packs them into few).
///
/// As measured on ARX's benchmarks (k = 5, 1 thread): cup without
/// suppression 8.9 -> 6.9 ms, FARS 9.0 -> 8.6 ms, adult 0 % 3.13 -> 3.06 ms,
/// the 2 % cases unchanged. Spaces up to 2^16 keys whatever the source
/// took adult with 2 % suppression (on average 17,000 slots for 3,500
/// source classes) from 37.9 ms to 42.7 ms.
pub(super) fn pays(space: u64, classes: usize) -> bool {
    space <= DIRECT_SLOTS.min(SMALL_SPACE.max(classes as u64))
}

/// The most source key bits one lookup table is indexed by.
const CHUNK_BITS: u32 = 12;

/// Keys whose slots are computed before they are grouped.
const BLOCK: usize = 256;

/// The most lookups per key (more: the hash path).
const MAX_CHUNKS: usize = 4;

thread_local! {
    /// The slots (all [`FREE`] between uses) and the lookup tables.
    static DIRECT_SCRATCH: RefCell<(Vec<u32>, Vec<u32>)> =
        const { RefCell::new((Vec::new(), Vec::new())) };
}

/// One lookup: the source key's bits `shift..` under `mask` index the
/// tables at `offset`.
#[derive(Clone, Copy, Debug, Default)]
struct Chunk {
    shift: u32,
    mask: u64,
    offset: usize,
}

/// A roll-up by direct index: which source bits each lookup reads, and
/// what each attribute contributes to the index.
pub(super) struct DirectPlan<'l> {
    chunks: Vec<Chunk>,
    /// For each chunk, its attributes: (the field's shift within the
    /// chunk, the attribute's lift, its stride in the index).
    parts: Vec<Vec<(u32, &'l [u32], u32)>>,
    /// The number of slots (the target key space).
    space: usize,
}

impl<'l> DirectPlan<'l> {
    /// The plan for rolling packed keys (by `layout`) up through `lifts`
    /// (source code to target code, one per attribute) into target
    /// cardinalities `targets`, when the target key space is at most
    /// [`DIRECT_SLOTS`] keys, at most [`MAX_CHUNKS`] lookups read a key and
    /// the source codes reach at most `budget` table entries; else `None`.
    pub(super) fn new(
        layout: &Layout,
        lifts: &[&'l [u32]],
        targets: &[u32],
        budget: usize,
    ) -> Option<DirectPlan<'l>> {
        let mut chunks: Vec<Chunk> = Vec::with_capacity(MAX_CHUNKS);
        let mut parts: Vec<Vec<(u32, &[u32], u32)>> = Vec::with_capacity(MAX_CHUNKS);
        let mut stride = 1u64;
        // Table entries the source codes reach: in all, and in the last
        // chunk's table.
        let (mut entries, mut reached) = (0usize, 0usize);
        for (j, (&lift, &target)) in lifts.iter().zip(targets).enumerate() {
            if target <= 1 {
                // One value at the target: no part of the index.
                continue;
            }
            let (shift, mask) = (layout.shifts[j], layout.masks[j]);
            let end = shift + mask.count_ones();
            let codes = lift.len().max(1);
            match chunks.last_mut() {
                Some(chunk) if end - chunk.shift <= CHUNK_BITS => {
                    chunk.mask |= mask << (shift - chunk.shift);
                    entries += reached * (codes - 1);
                    reached *= codes;
                }
                _ => {
                    if chunks.len() == MAX_CHUNKS || end - shift > CHUNK_BITS.max(16) {
                        return None;
                    }
                    chunks.push(Chunk {
                        shift,
                        mask,
                        offset: 0,
                    });
                    parts.push(Vec::with_capacity(lifts.len() - j));
                    entries += codes;
                    reached = codes;
                }
            }
            let chunk_shift = chunks.last()?.shift;
            parts
                .last_mut()?
                .push((shift - chunk_shift, lift, stride as u32));
            stride *= u64::from(target);
            if stride > DIRECT_SLOTS || entries > budget {
                return None;
            }
        }
        if chunks.is_empty() {
            // Every attribute at one value: one lookup of a one-entry table.
            chunks.push(Chunk::default());
            parts.push(Vec::new());
        }
        let mut offset = 0;
        for chunk in &mut chunks {
            chunk.offset = offset;
            offset += chunk.mask as usize + 1;
        }
        Some(DirectPlan {
            chunks,
            parts,
            space: stride as usize,
        })
    }

    /// The lookups per key.
    #[cfg(test)]
    pub(super) fn lookups(&self) -> usize {
        self.chunks.len()
    }

    /// Fills the lookup tables (`tables`, grown as needed): at each index
    /// the source codes reach, the sum of its attributes' lifted codes times
    /// their strides. Other entries are left as they were (never read).
    fn fill(&self, tables: &mut Vec<u32>) {
        let size = self
            .chunks
            .last()
            .map_or(0, |c| c.offset + c.mask as usize + 1);
        if tables.len() < size {
            tables.resize(size, 0);
        }
        let most = self
            .parts
            .iter()
            .map(|parts| {
                parts
                    .iter()
                    .map(|&(_, lift, _)| lift.len().max(1))
                    .product()
            })
            .max()
            .unwrap_or(1);
        let mut reached: Vec<(usize, u32)> = Vec::with_capacity(most);
        for (chunk, parts) in self.chunks.iter().zip(&self.parts) {
            reached.clear();
            reached.push((0, 0));
            for &(shift, lift, stride) in parts {
                let before = reached.len();
                for i in 0..before {
                    let (index, value) = reached[i];
                    for (code, &lifted) in lift.iter().enumerate().skip(1) {
                        reached.push((index | (code << shift), value + lifted * stride));
                    }
                    reached[i].1 = value + lift.first().map_or(0, |&l| l * stride);
                }
            }
            for &(index, value) in &reached {
                tables[chunk.offset + index] = value;
            }
        }
    }

    /// The slot of a packed source key.
    fn slot<const N: usize>(chunks: &[(u32, u64, &[u32]); N], key: u64) -> usize {
        chunks
            .iter()
            .map(|&(shift, mask, table)| table[((key >> shift) & mask) as usize])
            .sum::<u32>() as usize
    }

    /// Groups the packed source keys `keys` (source class `i` of size
    /// `sizes[i]`) into target classes numbered in order of first
    /// appearance, as `group_packed` does: appends each target class's
    /// size to `counts` and its first source class to `firsts`, and with
    /// `track` each source class's target class to `assignment`. Returns
    /// `false`, the output incomplete, once more than `max_classes` target
    /// classes turn up.
    pub(super) fn group(
        &self,
        keys: &[u64],
        sizes: &[u64],
        max_classes: usize,
        (counts, firsts, assignment): (&mut Vec<u64>, &mut Vec<u32>, &mut Vec<u32>),
        track: bool,
    ) -> bool {
        DIRECT_SCRATCH.with_borrow_mut(|(slots, tables)| {
            self.fill(tables);
            if slots.len() < self.space {
                slots.resize(self.space, FREE);
            }
            let output = (counts, firsts, assignment);
            match (self.chunks.len(), track) {
                (1, false) => self.run::<1, false>(tables, slots, keys, sizes, max_classes, output),
                (1, true) => self.run::<1, true>(tables, slots, keys, sizes, max_classes, output),
                (2, false) => self.run::<2, false>(tables, slots, keys, sizes, max_classes, output),
                (2, true) => self.run::<2, true>(tables, slots, keys, sizes, max_classes, output),
                (3, false) => self.run::<3, false>(tables, slots, keys, sizes, max_classes, output),
                (3, true) => self.run::<3, true>(tables, slots, keys, sizes, max_classes, output),
                (_, false) => {
                    self.run::<MAX_CHUNKS, false>(tables, slots, keys, sizes, max_classes, output)
                }
                (_, true) => {
                    self.run::<MAX_CHUNKS, true>(tables, slots, keys, sizes, max_classes, output)
                }
            }
        })
    }

    /// The grouping loop of [`DirectPlan::group`] with `N` lookups per key;
    /// frees the slots it used.
    fn run<const N: usize, const TRACK: bool>(
        &self,
        tables: &[u32],
        slots: &mut [u32],
        keys: &[u64],
        sizes: &[u64],
        max_classes: usize,
        (counts, firsts, assignment): (&mut Vec<u64>, &mut Vec<u32>, &mut Vec<u32>),
    ) -> bool {
        let chunks: [(u32, u64, &[u32]); N] = std::array::from_fn(|c| {
            let Chunk {
                shift,
                mask,
                offset,
            } = self.chunks[c];
            (shift, mask, &tables[offset..=offset + mask as usize])
        });
        let slots = &mut slots[..self.space];
        let stop = max_classes.min(self.space);
        let mut room = stop.clamp(1, 256);
        counts.resize(room, 0);
        let mut classes = 0usize;
        let mut complete = true;
        // The slots of a block of keys first (a loop of independent table
        // reads), then the block grouped; a block at a time, so that a
        // grouping stopped early reads no more keys.
        let mut indices = [0u32; BLOCK];
        'blocks: for (block, (keys, sizes)) in
            keys.chunks(BLOCK).zip(sizes.chunks(BLOCK)).enumerate()
        {
            for (index, &key) in indices.iter_mut().zip(keys) {
                *index = Self::slot(&chunks, key) as u32;
            }
            for (i, (&index, &size)) in indices.iter().zip(sizes).enumerate() {
                let slot = &mut slots[index as usize];
                if *slot == FREE {
                    if classes == stop {
                        complete = false;
                        break 'blocks;
                    }
                    if classes == room {
                        room = (2 * room).min(stop);
                        counts.resize(room, 0);
                    }
                    *slot = classes as u32;
                    firsts.push((block * BLOCK + i) as u32);
                    classes += 1;
                }
                let class = *slot;
                counts[class as usize] += size;
                if TRACK {
                    assignment.push(class);
                }
            }
        }
        counts.truncate(classes);
        for &first in firsts.iter() {
            slots[Self::slot(&chunks, keys[first as usize])] = FREE;
        }
        complete
    }
}

/// Panics unless every slot is free (for tests: each grouping frees the
/// slots it used).
#[cfg(test)]
pub(super) fn assert_slots_free() {
    DIRECT_SCRATCH.with_borrow(|(slots, _)| assert!(slots.iter().all(|&s| s == FREE)));
}
