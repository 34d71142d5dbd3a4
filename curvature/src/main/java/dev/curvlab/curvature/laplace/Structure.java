package dev.curvlab.curvature.laplace;

import java.util.Locale;

/** How the posterior precision's curvature is stored: dense, Kronecker-factored per layer (KFAC), or diagonal. */
public enum Structure {
    FULL, KRON, DIAG;

    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }
}
