"""The tables and figures of the sequence experiment that its claims (``sequence.claims``) may read.

No table here holds a time: the trained models' training seconds vary from run to run, and the
DVC-tracked report must not; parallelism is judged on counted sequential steps instead.
"""

from dlpipeline.evidence import Evidence

EVIDENCE = Evidence(
    tables={
        "sequence_results": "sequence.results_table",
        "sequence_units": "sequence.claim_units",
        "sequence_steps": "sequence.sequential_steps",
        "names_units": "sequence.names.units",
        "names_results": "sequence.names.results",
        "tagging_units": "sequence.tagging.units",
        "tagging_results": "sequence.tagging.results",
        "translate_units": "sequence.translate.units",
        "translate_results": "sequence.translate.results",
        "translate_lengths": "sequence.translate.lengths",
        "music_units": "sequence.music.units",
        "music_results": "sequence.music.results",
        "adding_gradient_explosion": "sequence.adding.gradient_explosion",
        "adding_gradient_ratios": "sequence.adding.gradient_ratios",
        "adding_gate_scores": "sequence.adding.gate_scores",
        "adding_order": "sequence.adding.order_units",
        "digits_rows_order": "sequence.digits_rows.order_units",
        "digits_rows_loss": "sequence.digits_rows.loss_choice_units",
        "names_masking": "sequence.names.masking_units",
        "text_tokens": "sequence.text.tokens_units",
    },
    figures={
        "adding_mse_vs_length": "sequence.adding.mse_vs_length_plot",
        "adding_gradient_norms": "sequence.adding.gradient_norms_plot",
        "adding_lstm_gates": "sequence.adding.lstm_gates_plot",
        "digits_rows_test_curves": "sequence.digits_rows.test_curves_plot",
        "forecast": "sequence.forecast.forecast_plot",
        "generated": "sequence.generate.generated_plot",
        "text_test_curves": "sequence.text.test_curves_plot",
        "sequential_steps": "sequence.sequential_steps_plot",
        "names_confusion": "sequence.names.confusion_plot",
        "tagging_type_f1": "sequence.tagging.type_f1_plot",
        "translate_length": "sequence.translate.length_plot",
        "translate_attention": "sequence.translate.attention_plot",
        "music_piano_rolls": "sequence.music.piano_rolls_plot",
        "adding_gradient_explosion": "sequence.adding.gradient_explosion_plot",
        "adding_gradient_ratios": "sequence.adding.gradient_ratios_plot",
        "adding_gate_scores": "sequence.adding.gate_scores_plot",
        "adding_order": "sequence.adding.order_plot",
        "digits_rows_order": "sequence.digits_rows.order_plot",
        "digits_rows_loss": "sequence.digits_rows.loss_choice_plot",
        "names_masking_by_length": "sequence.names.masking_by_length_plot",
        "text_tokens": "sequence.text.tokens_plot",
    },
)
