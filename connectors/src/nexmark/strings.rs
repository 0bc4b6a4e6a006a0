//! Random strings as the reference draws them, written straight into a
//! column's byte buffer, and the tables it draws once per process: the
//! 1 MiB string `extra` padding is sliced from, and the bid channels' URLs.
//!
//! The reference fills those tables from an unseeded generator, so they
//! differ on every run there; here each comes from `java.util.Random(0)`, in
//! the reference's order, so runs are reproducible.

use std::sync::LazyLock;

use super::java_random::JavaRandom;

/// Shortest string `next_string` draws.
const MIN_STRING_LENGTH: i32 = 3;
/// Length of the shared padding string.
const EXTRA_POOL_LENGTH: usize = 1024 * 1024;
/// Channels that are not one of the four hot ones.
pub(crate) const CHANNELS_NUMBER: i32 = 10_000;
/// The hot channels; a bid names one of them with probability 1/2.
pub(crate) const HOT_CHANNELS: [&str; 4] = ["Google", "Facebook", "Baidu", "Apple"];

/// The 1 MiB string every `extra` is a slice of.
pub(crate) static EXTRA_POOL: LazyLock<Vec<u8>> = LazyLock::new(|| {
    let mut out = Vec::with_capacity(EXTRA_POOL_LENGTH);
    push_exact_string_drawn(&mut JavaRandom::new(0), EXTRA_POOL_LENGTH, &mut out);
    out
});

/// Channel names and URLs: the four hot URLs, then `channel-<i>` with its URL.
pub(crate) struct ChannelTable {
    pub hot_urls: [String; 4],
    pub names: Vec<String>,
    pub urls: Vec<String>,
}

pub(crate) static CHANNELS: LazyLock<ChannelTable> = LazyLock::new(|| {
    let mut rng = JavaRandom::new(0);
    let hot_urls = std::array::from_fn(|_| base_url(&mut rng));
    let n = CHANNELS_NUMBER as usize;
    let (mut names, mut urls) = (Vec::with_capacity(n), Vec::with_capacity(n));
    for i in 0..CHANNELS_NUMBER {
        let mut url = base_url(&mut rng);
        // 9 in 10 channels carry their id in the URL (what q21 extracts):
        // Java's `Math.abs(Integer.reverse(i))`, overflow included.
        if rng.next_int_bounded(10) > 0 {
            url.push_str("&channel_id=");
            url.push_str(&i.reverse_bits().wrapping_abs().to_string());
        }
        names.push(format!("channel-{i}"));
        urls.push(url);
    }
    ChannelTable {
        hot_urls,
        names,
        urls,
    }
});

fn base_url(rng: &mut JavaRandom) -> String {
    let mut b = b"https://www.nexmark.com/".to_vec();
    for _ in 0..3 {
        push_next_string(rng, 5, b'_', &mut b);
        b.push(b'/');
    }
    b.extend_from_slice(b"item.htm?query=1");
    // Only ASCII letters and '_' were written.
    String::from_utf8_lossy(&b).into_owned()
}

/// Appends a random string of 3 to `max_length - 1` characters: lower-case
/// letters, each one `special` with probability 1/13, then trimmed of
/// spaces like Java's `String.trim()`. Returns the appended length.
pub(crate) fn push_next_string(
    rng: &mut JavaRandom,
    max_length: i32,
    special: u8,
    out: &mut Vec<u8>,
) -> usize {
    let start = out.len();
    let len = MIN_STRING_LENGTH + rng.next_int_bounded(max_length - MIN_STRING_LENGTH);
    for _ in 0..len {
        if rng.next_int_bounded(13) == 0 {
            out.push(special);
        } else {
            out.push(b'a' + rng.next_int_bounded(26) as u8);
        }
    }
    // Only a space special can need trimming.
    while out.len() > start && out[out.len() - 1] == b' ' {
        out.pop();
    }
    let lead = out[start..].iter().take_while(|c| **c == b' ').count();
    if lead > 0 {
        out.drain(start..start + lead);
    }
    out.len() - start
}

/// Appends `extra` padding so that `current_size` plus its length averages
/// `desired_average_size` (within ±20 %); nothing when already larger.
/// Returns the appended length.
pub(crate) fn push_next_extra(
    rng: &mut JavaRandom,
    current_size: i32,
    desired_average_size: i32,
    out: &mut Vec<u8>,
) -> usize {
    if current_size > desired_average_size {
        return 0;
    }
    let desired = desired_average_size - current_size;
    let delta = super::model::java_round(f64::from(desired) * 0.2) as i32;
    let min_size = desired - delta;
    let size = min_size
        + if delta == 0 {
            0
        } else {
            rng.next_int_bounded(2 * delta)
        };
    let size = size.max(0) as usize;
    push_exact_string(rng, size, out);
    size
}

/// Appends exactly `length` characters: a slice of the shared pool when it
/// is short enough (one draw), else drawn character by character.
fn push_exact_string(rng: &mut JavaRandom, length: usize, out: &mut Vec<u8>) {
    let pool = &*EXTRA_POOL;
    if length < pool.len() / 2 {
        // Both fit an i32: the pool is 1 MiB.
        let offset = rng.next_int_bounded((pool.len() - length) as i32) as usize;
        out.extend_from_slice(&pool[offset..offset + length]);
    } else {
        push_exact_string_drawn(rng, length, out);
    }
}

/// The reference's character-by-character draw: six characters per `int`,
/// `'a' + rnd % 26` with Java's signed remainder, so negative draws give
/// upper-case letters and punctuation between 'H' and '`'.
fn push_exact_string_drawn(rng: &mut JavaRandom, length: usize, out: &mut Vec<u8>) {
    let (mut rnd, mut left) = (0i32, 0);
    for _ in 0..length {
        if left == 0 {
            rnd = rng.next_int();
            left = 6;
        }
        out.push((i32::from(b'a') + rnd % 26) as u8);
        rnd /= 26;
        left -= 1;
    }
}
