//! Counts that are a constant plus a sum of independent Bernoulli trials (a
//! Poisson-binomial), exact while small and by a normal approximation when large.

use crate::estimate::normal_cdf;

/// Above this many trials the exact distribution gives way to the normal approximation.
const EXACT_LIMIT: usize = 40;

#[derive(Clone, Debug)]
pub struct BernoulliSum {
    offset: usize,
    mean: f64,
    var: f64,
    /// pmf[k] = P(sum of trials = k); dropped once there are too many trials.
    pmf: Option<Vec<f64>>,
}

impl BernoulliSum {
    pub fn constant(offset: usize) -> Self {
        BernoulliSum {
            offset,
            mean: offset as f64,
            var: 0.0,
            pmf: Some(vec![1.0]),
        }
    }

    /// A constant to which about `trials` trials will be added: goes straight to the
    /// normal approximation when they will be too many for the exact distribution.
    pub fn for_trials(offset: usize, trials: usize) -> Self {
        let mut sum = BernoulliSum::constant(offset);
        if trials > EXACT_LIMIT {
            sum.pmf = None;
        }
        sum
    }

    pub fn add_trial(&mut self, q: f64) {
        let q = q.clamp(0.0, 1.0);
        if q == 0.0 {
            return;
        }
        self.mean += q;
        self.var += q * (1.0 - q);
        if let Some(pmf) = &mut self.pmf {
            if pmf.len() > EXACT_LIMIT {
                self.pmf = None;
                return;
            }
            pmf.push(0.0);
            for k in (1..pmf.len()).rev() {
                pmf[k] = pmf[k] * (1.0 - q) + pmf[k - 1] * q;
            }
            pmf[0] *= 1.0 - q;
        }
    }

    /// Add an independent Poisson count of mean `m` (many unlikely trials).
    pub fn add_poisson(&mut self, m: f64) {
        if m.is_nan() || m <= 0.0 {
            return;
        }
        self.mean += m;
        self.var += m;
        if let Some(pmf) = &mut self.pmf {
            // Poisson pmf until its tail is negligible.
            let mut terms = vec![(-m).exp()];
            while terms.len() < EXACT_LIMIT && (terms.len() as f64) < m + 1.0 + 10.0 * m.sqrt() {
                let k = terms.len() as f64;
                let next = terms[terms.len() - 1] * m / k;
                terms.push(next);
            }
            if pmf.len() + terms.len() > EXACT_LIMIT {
                self.pmf = None;
                return;
            }
            let mut out = vec![0.0; pmf.len() + terms.len() - 1];
            for (i, a) in pmf.iter().enumerate() {
                for (j, b) in terms.iter().enumerate() {
                    out[i + j] += a * b;
                }
            }
            *pmf = out;
        }
    }

    /// P(self >= other), for independent counts.
    pub fn prob_at_least(&self, other: &BernoulliSum) -> f64 {
        if let (Some(mine), Some(theirs)) = (&self.pmf, &other.pmf) {
            // tail[k] = P(my trials >= k)
            let mut tail = vec![0.0; mine.len() + 1];
            for k in (0..mine.len()).rev() {
                tail[k] = tail[k + 1] + mine[k];
            }
            let mut p = 0.0;
            for (y, py) in theirs.iter().enumerate() {
                let needed = (other.offset + y) as i64 - self.offset as i64;
                let t = if needed <= 0 {
                    1.0
                } else if needed as usize >= tail.len() {
                    0.0
                } else {
                    tail[needed as usize]
                };
                p += py * t;
            }
            return p.clamp(0.0, 1.0);
        }
        let diff = self.mean - other.mean + 0.5;
        let var = self.var + other.var;
        if var <= 1e-12 {
            return if diff > 0.0 { 1.0 } else { 0.0 };
        }
        normal_cdf(diff / var.sqrt())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_matches_hand_computation() {
        let mut d = BernoulliSum::constant(1);
        d.add_trial(0.5);
        let mut s = BernoulliSum::constant(1);
        s.add_trial(0.5);
        // D, S in {1, 2} each with 1/2: P(D >= S) = 1 - P(D=1, S=2) = 3/4.
        assert!((d.prob_at_least(&s) - 0.75).abs() < 1e-12);
        assert_eq!(
            BernoulliSum::constant(0).prob_at_least(&BernoulliSum::constant(1)),
            0.0
        );
        assert_eq!(
            BernoulliSum::constant(2).prob_at_least(&BernoulliSum::constant(1)),
            1.0
        );
    }

    #[test]
    fn poisson_count_has_the_right_tail() {
        let mut d = BernoulliSum::constant(0);
        d.add_poisson(2.0);
        // P(Poisson(2) >= 1) = 1 - e^-2
        let one = BernoulliSum::constant(1);
        assert!((d.prob_at_least(&one) - (1.0 - (-2.0f64).exp())).abs() < 1e-9);
    }

    #[test]
    fn normal_approximation_is_close_to_exact() {
        let mut exact_d = BernoulliSum::constant(0);
        let mut exact_s = BernoulliSum::constant(20);
        for i in 0..90 {
            exact_d.add_trial(0.2 + (i % 5) as f64 * 0.02);
        }
        for _ in 0..10 {
            exact_s.add_trial(0.3);
        }
        let p_exact = exact_d.prob_at_least(&exact_s);
        let mut big_d = exact_d.clone();
        big_d.pmf = None;
        let p_normal = big_d.prob_at_least(&exact_s);
        assert!((p_exact - p_normal).abs() < 0.02, "{p_exact} vs {p_normal}");
    }
}
