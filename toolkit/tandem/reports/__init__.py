"""What the facilitator and the programme lead read: report data with its privacy rules,
the two report sites, the status table and exports."""
