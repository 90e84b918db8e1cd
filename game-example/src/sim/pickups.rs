//! Pickups: what a player touching one gets (a coin, health, a speed
//! boost), and the new ones spawned at random on a timer, up to a cap.

use super::*;

impl Sim {
    pub(super) fn collect_pickups(&mut self) {
        let reach2 = (PLAYER_RADIUS + PICKUP_RADIUS) * (PLAYER_RADIUS + PICKUP_RADIUS);
        let ids: Vec<u32> = self.players.keys().copied().collect();
        for id in ids {
            let p = &self.players[&id];
            if !p.alive {
                continue;
            }
            let (px, py) = (p.x, p.y);
            while let Some(i) = self.pickups.iter().position(|k| dist2(k.x, k.y, px, py) <= reach2) {
                let k = self.pickups.remove(i);
                let p = self.players.get_mut(&id).expect("listed above");
                let what = match k.kind {
                    PickupKind::Coin => {
                        p.score += COIN_SCORE;
                        "a coin"
                    }
                    PickupKind::Health => {
                        p.hp = (p.hp + HEALTH_BONUS).min(MAX_HP);
                        "health"
                    }
                    PickupKind::Speed => {
                        p.boost_us = SPEED_BOOST_US;
                        "a speed boost"
                    }
                };
                let text = format!("{} picked up {what}", p.name);
                self.emit(EventKind::PickedUp, id, k.id, text);
            }
        }
    }

    pub(super) fn spawn_pickups(&mut self, dt_us: u64) {
        self.pickup_timer_us = self.pickup_timer_us.saturating_sub(dt_us);
        if self.pickup_timer_us > 0 {
            return;
        }
        self.pickup_timer_us = PICKUP_INTERVAL_US;
        if self.pickups.len() >= MAX_PICKUPS {
            return;
        }
        let margin = PICKUP_RADIUS + 14.0;
        let x = self.rng.random_range(margin..=WIDTH - margin);
        let y = self.rng.random_range(margin..=HEIGHT - margin);
        let kind = match self.rng.random_range(0..4u8) {
            0 | 1 => PickupKind::Coin,
            2 => PickupKind::Health,
            _ => PickupKind::Speed,
        };
        self.add_pickup(x, y, kind);
    }
}
