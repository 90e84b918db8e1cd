//! Combat: shots fired on the fire input (or its latch), projectiles
//! swept along their path this tick so a fast one cannot pass through a
//! player, and hits, eliminations and their score.

use super::*;

impl Sim {
    pub(super) fn move_projectiles(&mut self, dt_us: u64, dt: f32) {
        let reach2 = (PLAYER_RADIUS + PROJECTILE_RADIUS) * (PLAYER_RADIUS + PROJECTILE_RADIUS);
        let mut hits: Vec<(u32, u32)> = Vec::new(); // (owner, target)
        self.projectiles.retain_mut(|pr| {
            let (ax, ay) = (pr.x, pr.y);
            pr.x += pr.vx * dt;
            pr.y += pr.vy * dt;
            pr.life_us = pr.life_us.saturating_sub(dt_us);
            let target = self
                .players
                .values()
                .filter(|p| p.alive && p.id != pr.owner)
                .filter_map(|p| {
                    let (d2, t) = segment_dist2(ax, ay, pr.x, pr.y, p.x, p.y);
                    (d2 <= reach2).then_some((t, p.id))
                })
                .min_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            if let Some((_, target)) = target {
                hits.push((pr.owner, target));
                return false;
            }
            pr.life_us > 0 && (0.0..=WIDTH).contains(&pr.x) && (0.0..=HEIGHT).contains(&pr.y)
        });
        for (owner, target) in hits {
            self.hit(owner, target);
        }
    }

    pub(super) fn hit(&mut self, owner: u32, target: u32) {
        let Some(t) = self.players.get_mut(&target) else { return };
        if !t.alive {
            return; // already eliminated earlier this tick
        }
        t.hp = t.hp.saturating_sub(DAMAGE);
        let eliminated = t.hp == 0;
        if eliminated {
            (t.alive, t.respawn_us, t.vx, t.vy, t.fire_latch) = (false, RESPAWN_US, 0.0, 0.0, None);
        }
        let (a, b) = (self.name(owner).to_string(), self.name(target).to_string());
        self.emit(EventKind::Hit, owner, target, format!("{a} hit {b}"));
        if eliminated {
            if let Some(o) = self.players.get_mut(&owner) {
                o.score += ELIMINATION_SCORE;
            }
            self.emit(EventKind::Eliminated, owner, target, format!("{a} eliminated {b}"));
        }
    }

    pub(super) fn fire(&mut self) {
        for p in self.players.values_mut() {
            let latch = p.fire_latch.take();
            if !p.alive || p.cooldown_us > 0 {
                continue;
            }
            let (ax, ay) = match latch {
                Some(aim) => aim,
                None if p.input.fire => (p.input.aim_x, p.input.aim_y),
                None => continue,
            };
            let len = (ax * ax + ay * ay).sqrt();
            if !(len.is_finite() && len > 1e-6) {
                continue;
            }
            let (dx, dy) = (ax / len, ay / len);
            self.projectiles.push(Projectile {
                id: self.next_projectile,
                x: p.x + dx * PLAYER_RADIUS,
                y: p.y + dy * PLAYER_RADIUS,
                vx: dx * PROJECTILE_SPEED,
                vy: dy * PROJECTILE_SPEED,
                owner: p.id,
                life_us: PROJECTILE_LIFETIME_US,
            });
            self.next_projectile = self.next_projectile.wrapping_add(1).max(1);
            p.cooldown_us = FIRE_COOLDOWN_US;
        }
    }
}
