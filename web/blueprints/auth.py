"""Logging in and out."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_user, logout_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from sqlalchemy.orm import joinedload
from werkzeug.security import check_password_hash, generate_password_hash
from wtforms import HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, Length

from callcenter.models import User, utcnow
from web.extensions import db_session
from web.security import AuthUser, public, safe_next_url

bp = Blueprint("auth", __name__, url_prefix="/auth")

BAD_LOGIN = "用户名或密码错误。"
# checked when the username is unknown, so a wrong name takes as long as a wrong password
_DUMMY_HASH = generate_password_hash("not-a-real-password")


class LoginForm(FlaskForm):
    username = StringField("用户名", validators=[DataRequired("请输入用户名。"), Length(max=64)])
    password = PasswordField("密码", validators=[DataRequired("请输入密码。"), Length(max=256)])
    next = HiddenField()


@bp.route("/login", methods=["GET", "POST"])
@public
def login() -> ResponseReturnValue:
    """Show the login form; on success go to ``next`` (a local path) or the queue."""
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    form = LoginForm()
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
    if form.validate_on_submit():
        session = db_session()
        user = session.scalars(
            select(User)
            .options(joinedload(User.dealership))
            .where(User.username == form.username.data.strip())
        ).one_or_none()
        if user is None:
            check_password_hash(_DUMMY_HASH, form.password.data)
            flash(BAD_LOGIN, "error")
        elif not user.check_password(form.password.data):
            flash(BAD_LOGIN, "error")
        elif not user.active:
            flash("该账号已停用,请联系管理员。", "error")
        else:
            user.last_login_at = utcnow()
            session.commit()
            login_user(AuthUser.from_row(user))
            return redirect(safe_next_url(form.next.data) or url_for("main.index"))
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
def logout() -> ResponseReturnValue:
    """Log out (POST only, so another site cannot log a user out with a link)."""
    logout_user()
    flash("已退出登录。", "info")
    return redirect(url_for("auth.login"))
