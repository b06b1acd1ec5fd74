def load_calendar(organisation, people, channels, now):
    return None
