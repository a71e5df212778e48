"""A figure builder for the fixture entries (the real builders live in deepnotes.handbook.figures)."""


def leaky_relu_curve(out_path):
    import matplotlib.pyplot as plt
    import numpy as np

    z = np.linspace(-3, 3, 61)
    fig, ax = plt.subplots(figsize=(3, 2))
    ax.plot(z, np.where(z > 0, z, 0.1 * z))
    ax.set(xlabel="z", ylabel="f(z)")
    fig.savefig(out_path)
    plt.close(fig)
