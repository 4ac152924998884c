from lingkaran.web.navigation import navigation_for


def navigation(request):
    return {"navigation": navigation_for(getattr(request, "user", None))}
