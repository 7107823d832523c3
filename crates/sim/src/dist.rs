//! Distributions of durations used by scenarios, written in TOML as
//! `{ dist = "lognormal", mean = 120, cv = 1.0 }` and friends.

use rand::Rng;
use rand_distr::{Distribution, Exp, LogNormal};
use serde::{Deserialize, Serialize};

/// A distribution of non-negative durations, in seconds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "dist", rename_all = "snake_case", deny_unknown_fields)]
pub enum Dist {
    Constant {
        value: f64,
    },
    Exponential {
        mean: f64,
    },
    /// Lognormal with the given mean and coefficient of variation.
    Lognormal {
        mean: f64,
        cv: f64,
    },
    /// A weighted mixture, e.g. the bimodal ring times of real call logs.
    Mixture {
        parts: Vec<Weighted>,
    },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Weighted {
    pub weight: f64,
    pub of: Dist,
}

impl Dist {
    pub fn constant(value: f64) -> Self {
        Dist::Constant { value }
    }

    pub fn lognormal(mean: f64, cv: f64) -> Self {
        Dist::Lognormal { mean, cv }
    }

    /// Checks the parameters; `what` names the field in the message.
    pub fn validate(&self, what: &str) -> Result<(), String> {
        let ok = match self {
            Dist::Constant { value } => value.is_finite() && *value >= 0.0,
            Dist::Exponential { mean } => mean.is_finite() && *mean > 0.0,
            Dist::Lognormal { mean, cv } => {
                mean.is_finite() && *mean > 0.0 && cv.is_finite() && *cv > 0.0
            }
            Dist::Mixture { parts } => {
                for (i, part) in parts.iter().enumerate() {
                    part.of.validate(&format!("{what}.parts[{i}]"))?;
                }
                !parts.is_empty() && parts.iter().all(|p| p.weight.is_finite() && p.weight > 0.0)
            }
        };
        if ok {
            Ok(())
        } else {
            Err(format!("{what}: parameters out of range in {self:?}"))
        }
    }

    pub fn mean(&self) -> f64 {
        match self {
            Dist::Constant { value } => *value,
            Dist::Exponential { mean } | Dist::Lognormal { mean, .. } => *mean,
            Dist::Mixture { parts } => {
                let total: f64 = parts.iter().map(|p| p.weight).sum();
                parts.iter().map(|p| p.weight * p.of.mean()).sum::<f64>() / total
            }
        }
    }

    /// One draw. Parameters must have passed [`Dist::validate`].
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        match self {
            Dist::Constant { value } => *value,
            Dist::Exponential { mean } => {
                Exp::new(1.0 / mean).map(|d| d.sample(rng)).unwrap_or(*mean)
            }
            Dist::Lognormal { mean, cv } => {
                let sigma2 = (1.0 + cv * cv).ln();
                let mu = mean.ln() - sigma2 / 2.0;
                LogNormal::new(mu, sigma2.sqrt())
                    .map(|d| d.sample(rng))
                    .unwrap_or(*mean)
            }
            Dist::Mixture { parts } => {
                let total: f64 = parts.iter().map(|p| p.weight).sum();
                let mut pick = rng.random::<f64>() * total;
                for part in parts {
                    if pick < part.weight {
                        return part.of.sample(rng);
                    }
                    pick -= part.weight;
                }
                parts.last().map_or(0.0, |p| p.of.sample(rng))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn sample_means_match() {
        let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(7);
        let bimodal = Dist::Mixture {
            parts: vec![
                Weighted {
                    weight: 3.0,
                    of: Dist::lognormal(8.0, 0.25),
                },
                Weighted {
                    weight: 1.0,
                    of: Dist::lognormal(20.0, 0.1),
                },
            ],
        };
        for d in [
            Dist::lognormal(120.0, 1.0),
            Dist::Exponential { mean: 5.0 },
            Dist::constant(3.0),
            bimodal,
        ] {
            d.validate("d").unwrap();
            let n = 200_000;
            let m = (0..n).map(|_| d.sample(&mut rng)).sum::<f64>() / n as f64;
            assert!((m / d.mean() - 1.0).abs() < 0.02, "{d:?}: {m}");
        }
        assert!(Dist::lognormal(-1.0, 1.0)
            .validate("talk_time")
            .unwrap_err()
            .contains("talk_time"));
    }
}
