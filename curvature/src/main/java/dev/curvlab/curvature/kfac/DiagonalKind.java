package dev.curvlab.curvature.kfac;

import java.util.Locale;

/** Which matrix's diagonal {@link CurvatureDiagonal} computes (all for the mean loss). */
public enum DiagonalKind {
    /** The generalized Gauss-Newton matrix, exactly. */
    GGN,
    /** The Hessian, exactly (dense chains: GGN plus the activation-curvature terms). */
    HESSIAN,
    /** The Fisher by Monte Carlo: gradients at labels sampled from the model (seeded). */
    MC_FISHER;

    public String id() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }
}
