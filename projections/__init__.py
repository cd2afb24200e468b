"""Pure folds over a team's ordered history: rotation, ownership, sanctions, commission."""
