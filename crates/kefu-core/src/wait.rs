//! The expected wait a queued visitor is told: learned from how fast the queue has been moving lately, so it
//! follows a busy afternoon or a quiet night without configuration.

/// How far back a gap between two departures from the queue still says something about the current pace.
const STALE_GAP_MS: i64 = 3_600_000;
/// The weight of the newest observation: recent pace matters most, one outlier does not swing it.
const ALPHA: f64 = 0.3;
/// A conversation assigned within this long of queueing never really waited: it says nothing about the pace.
const MIN_WAIT_MS: i64 = 1_000;

/// The queue's pace in one organisation: the typical time between two waiting conversations being taken.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WaitEstimator {
    gap_ms: Option<f64>,
    last_taken: Option<i64>,
}

impl WaitEstimator {
    /// A conversation that waited `waited_ms` was assigned at `now`.
    pub fn taken(&mut self, now: i64, waited_ms: i64) {
        if waited_ms < MIN_WAIT_MS {
            return;
        }
        let gap = match self.last_taken {
            Some(last) if now > last && now - last <= STALE_GAP_MS => (now - last) as f64,
            // No recent departure to measure from: the time this one waited is the best guess of the pace.
            _ => waited_ms.min(STALE_GAP_MS) as f64,
        };
        self.gap_ms = Some(match self.gap_ms {
            Some(g) => g + ALPHA * (gap - g),
            None => gap,
        });
        self.last_taken = Some(now);
    }

    /// Seconds until the conversation at `position` (1 = next) is likely taken; `None` until the pace is known.
    pub fn expected_wait_secs(&self, position: u32) -> Option<u32> {
        let gap = self.gap_ms?;
        Some(((gap * f64::from(position)) / 1000.0).ceil().min(f64::from(u32::MAX)) as u32)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_is_promised_before_anyone_has_waited() {
        let mut pace = WaitEstimator::default();
        assert_eq!(pace.expected_wait_secs(1), None);
        pace.taken(10_000, 200); // assigned at once: not a wait
        assert_eq!(pace.expected_wait_secs(1), None);
    }

    #[test]
    fn the_first_wait_sets_the_pace_and_later_departures_refine_it() {
        let mut pace = WaitEstimator::default();
        pace.taken(100_000, 60_000);
        assert_eq!(pace.expected_wait_secs(1), Some(60));
        assert_eq!(pace.expected_wait_secs(3), Some(180));
        // The next one leaves 30 s later: the pace moves 30 % of the way towards 30 s.
        pace.taken(130_000, 45_000);
        assert_eq!(pace.expected_wait_secs(1), Some(51));
    }

    #[test]
    fn a_long_quiet_spell_does_not_count_as_a_slow_queue() {
        let mut pace = WaitEstimator::default();
        pace.taken(0, 20_000);
        pace.taken(STALE_GAP_MS * 5, 20_000);
        assert_eq!(pace.expected_wait_secs(1), Some(20));
    }
}
