def dashboard_panel(request, actor):
    return None
